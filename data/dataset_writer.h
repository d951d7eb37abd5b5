// The on-disk layout of a masked-face dataset: manifest.csv, landmark text files, the
// train/test split rule, ids, and the contact sheet. Readers live here too, so the
// training loader parses exactly what the writer wrote.
#pragma once
#include <array>
#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "data/face.h"
#include "data/image.h"

namespace maskoff::data {

// One manifest row; the four file columns are relative to the dataset folder.
struct ManifestRow {
  std::string id, split, source, mask_type, masked, real, mask, landmarks;
};

inline constexpr const char* kManifestHeader =
    "id,split,source,mask_type,masked,real,mask,landmarks";

// Zero-padded to 6 digits (more when the index needs them).
std::string format_id(int64_t index);
// "train" or "test": a seeded hash of the id, so a face keeps its split whatever else is
// added to or removed from the dataset.
std::string split_for_id(const std::string& id, uint64_t seed, double test_fraction);

// Writes the header and the rows sorted by id; fields holding a comma, quote or newline are
// quoted (RFC 4180). Atomic (PATH.tmp then rename).
void write_manifest(const std::string& path, std::vector<ManifestRow> rows);
// Parses a manifest written by write_manifest; throws naming the file and line on a bad header
// or a row with the wrong number of fields.
std::vector<ManifestRow> read_manifest(const std::string& path);
// The same from a stream; `path` is what the error messages call it.
std::vector<ManifestRow> parse_manifest(std::istream& in, const std::string& path);

// 68 lines "x y" with 2 decimals.
void write_landmarks(const std::string& path, const Landmarks& lm);
Landmarks read_landmarks(const std::string& path);
Landmarks parse_landmarks(std::istream& in, const std::string& path);

// Writes `text` to PATH.tmp, then renames it over PATH.
void write_text_atomic(const std::string& path, const std::string& text);

// Rows of tiles side by side (each tile resized to tile x tile, grey expanded to RGB),
// separated by `gap` pixels of a light background.
Image make_contact_sheet(const std::vector<std::vector<Image>>& rows, int tile, int gap = 4);

}  // namespace maskoff::data
