// Where the tools and tests find their inputs: the read-only shared data folder, the mask
// templates inside it, and the example photos that Debian's dlib package always ships.
#pragma once
#include <string>
#include <vector>

namespace maskoff::data {

// $MASKOFF_SHARED if set, else the first existing of <source dir>/../shared, ./shared,
// ../shared; empty when none exists (callers that need it raise or skip).
std::string shared_dir();
// <shared>/data/masks, or empty when the shared folder is absent.
std::string default_masks_dir();
// /usr/share/doc/libdlib19.1/examples (holds faces/ and johns/).
std::string dlib_examples_dir();
// The dlib example photos used when a tool gets no --input: faces/*.jpg then johns/*/*.jpg.
std::vector<std::string> dlib_example_photos();

// True for .jpg/.jpeg/.png (any case).
bool is_image_file(const std::string& path);
// Image files under `path` (recursive, sorted byte-wise by path) or `path` itself when it
// is a file. Throws maskoff::Error when the path does not exist.
std::vector<std::string> list_images(const std::string& path);

}  // namespace maskoff::data
