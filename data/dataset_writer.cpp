// manifest.csv, landmark files, the split rule and the contact sheet.
#include "data/dataset_writer.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/atomic_file.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace fs = std::filesystem;

namespace maskoff::data {

std::string format_id(int64_t index) {
  MASKOFF_CHECK(index >= 0, "format_id: negative index " << index);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06lld", static_cast<long long>(index));
  return buf;
}

std::string split_for_id(const std::string& id, uint64_t seed, double test_fraction) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : id) h = (h ^ c) * 1099511628211ULL;
  // A stream constant keeps the split independent of the per-face choices drawn from the
  // same seed.
  const double u = rng_uniform_f64(seed ^ 0x5b1175b1175b1175ULL, h);
  return u < test_fraction ? "test" : "train";
}

void write_text_atomic(const std::string& path, const std::string& text) {
  write_file_atomic(path, text);
}

namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += (c == '"') ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// Splits one logical CSV record; quoted fields may hold commas and doubled quotes.
bool parse_csv_line(const std::string& line, std::vector<std::string>& out) {
  out.assign(1, "");
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"')
        out.back() += '"', ++i;
      else if (c == '"')
        quoted = false;
      else
        out.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return !quoted;
}

}  // namespace

void write_manifest(const std::string& path, std::vector<ManifestRow> rows) {
  // Ids are zero-padded to six digits but grow past that, so a plain string comparison would
  // put "1000000" before "999999"; (length, text) is numeric order for digit strings.
  std::sort(rows.begin(), rows.end(), [](const ManifestRow& a, const ManifestRow& b) {
    if (a.id.size() != b.id.size()) return a.id.size() < b.id.size();
    return a.id < b.id;
  });
  std::ostringstream os;
  os << kManifestHeader << "\n";
  for (const auto& r : rows) {
    os << csv_field(r.id) << ',' << csv_field(r.split) << ',' << csv_field(r.source) << ','
       << csv_field(r.mask_type) << ',' << csv_field(r.masked) << ',' << csv_field(r.real) << ','
       << csv_field(r.mask) << ',' << csv_field(r.landmarks) << "\n";
  }
  write_text_atomic(path, os.str());
}

std::vector<ManifestRow> read_manifest(const std::string& path) {
  std::ifstream in(path);
  MASKOFF_CHECK(in, "read_manifest: cannot open '" << path << "'");
  return parse_manifest(in, path);
}

std::vector<ManifestRow> parse_manifest(std::istream& in, const std::string& path) {
  std::string line;
  MASKOFF_CHECK(std::getline(in, line), "read_manifest: '" << path << "' is empty");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  MASKOFF_CHECK(line == kManifestHeader, "read_manifest: '" << path << "' has header '" << line
                                                            << "', expected '" << kManifestHeader
                                                            << "'");
  std::vector<ManifestRow> rows;
  std::vector<std::string> f;
  for (int lineno = 2; std::getline(in, line); ++lineno) {
    if (line.empty()) continue;
    MASKOFF_CHECK(parse_csv_line(line, f) && f.size() == 8,
                  "read_manifest: '" << path << "' line " << lineno << ": expected 8 fields, got "
                                     << f.size());
    rows.push_back(ManifestRow{f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]});
  }
  return rows;
}

void write_landmarks(const std::string& path, const Landmarks& lm) {
  std::string text;
  char buf[64];
  for (const Point2& p : lm) {
    std::snprintf(buf, sizeof buf, "%.2f %.2f\n", p.x, p.y);
    text += buf;
  }
  write_text_atomic(path, text);
}

Landmarks read_landmarks(const std::string& path) {
  std::ifstream in(path);
  MASKOFF_CHECK(in, "read_landmarks: cannot open '" << path << "'");
  return parse_landmarks(in, path);
}

Landmarks parse_landmarks(std::istream& in, const std::string& path) {
  Landmarks lm;
  for (int i = 0; i < 68; ++i) {
    MASKOFF_CHECK(in >> lm[i].x >> lm[i].y,
                  "read_landmarks: '"
                      << path << "' has fewer than 68 \"x y\" lines (stopped at line " << i + 1
                      << ")");
  }
  std::string extra;
  MASKOFF_CHECK(!(in >> extra), "read_landmarks: '" << path << "' has more than 68 points");
  return lm;
}

Image make_contact_sheet(const std::vector<std::vector<Image>>& rows, int tile, int gap) {
  MASKOFF_CHECK(tile > 0 && gap >= 0, "make_contact_sheet: bad tile " << tile << " or gap " << gap);
  size_t cols = 0;
  for (const auto& r : rows) cols = std::max(cols, r.size());
  MASKOFF_CHECK(!rows.empty() && cols > 0, "make_contact_sheet: nothing to draw");
  const int n_rows = static_cast<int>(rows.size()), n_cols = static_cast<int>(cols);
  Image sheet(gap + n_cols * (tile + gap), gap + n_rows * (tile + gap), 3, 235);
  for (int r = 0; r < n_rows; ++r) {
    for (int c = 0; c < static_cast<int>(rows[r].size()); ++c) {
      const Image& src = rows[r][c];
      if (src.empty()) continue;
      Image t = resize_bilinear(to_rgb(src), tile, tile);
      const int x0 = gap + c * (tile + gap), y0 = gap + r * (tile + gap);
      for (int y = 0; y < tile; ++y)
        std::memcpy(&sheet.at(x0, y0 + y, 0), t.row(y), static_cast<size_t>(tile) * 3);
    }
  }
  return sheet;
}

}  // namespace maskoff::data
