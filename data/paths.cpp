// Locating the shared data folder and listing image files.
#include "data/paths.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "tensor/error.h"

namespace fs = std::filesystem;

namespace maskoff::data {
namespace {

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// The library carries no configure-time definition, so the source tree is found from this
// file's own path (CMake compiles sources by absolute path).
fs::path source_dir() { return fs::path(__FILE__).parent_path().parent_path(); }

}  // namespace

std::string shared_dir() {
  if (const char* env = std::getenv("MASKOFF_SHARED"); env && *env) return env;
  for (const fs::path& p :
       {source_dir() / ".." / "shared", fs::path("shared"), fs::path("../shared")}) {
    if (is_dir(p)) return fs::weakly_canonical(p).string();
  }
  return "";
}

std::string default_masks_dir() {
  std::string s = shared_dir();
  return s.empty() ? "" : (fs::path(s) / "data" / "masks").string();
}

std::string dlib_examples_dir() { return "/usr/share/doc/libdlib19.1/examples"; }

std::vector<std::string> dlib_example_photos() {
  std::vector<std::string> out;
  for (const char* sub : {"faces", "johns"}) {
    fs::path dir = fs::path(dlib_examples_dir()) / sub;
    if (!is_dir(dir)) continue;
    for (auto& f : list_images(dir.string())) out.push_back(f);
  }
  return out;
}

bool is_image_file(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

std::vector<std::string> list_images(const std::string& path) {
  std::error_code ec;
  MASKOFF_CHECK(fs::exists(path, ec), "input path '" << path << "' does not exist");
  std::vector<std::string> out;
  if (!fs::is_directory(path, ec)) {
    out.push_back(path);
    return out;
  }
  for (auto it = fs::recursive_directory_iterator(
           path, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && is_image_file(it->path().string()))
      out.push_back(it->path().string());
  }
  MASKOFF_CHECK(!ec, "cannot list '" << path << "': " << ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace maskoff::data
