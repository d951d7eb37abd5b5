// MaskTheFace-style mask synthesis: template loading (anchors.tsv + PNG pyramids, or the
// procedural fallback), placement by a 6-point homography, colour processing, compositing.
//
// The method, as MaskTheFace does it and as done here:
//  1. Six anchors on the face from the landmarks (mask_anchors.cpp) and the head-turn angle;
//     a turn beyond 13 degrees selects the template drawn for that side (_left or _right).
//  2. The template's six marked points, in the order a, b, c, f, e, d, are mapped onto the
//     face's by a least-squares homography, and the RGBA template is warped into the photo.
//  3. Optional texture (a pattern image stretched over the whole template) and colour tint
//     are blended into the template's colours by their strengths.
//  4. The mask's brightness is pulled towards the face's: its colours are scaled by
//     1 + (face V - mask V) / 255, where V is the HSV value (max of R, G, B). Scaling R, G, B
//     together changes V and leaves hue and saturation alone, as scaling the V channel does.
//  5. The mask is composited over the face; the covered pixels form the binary mask.
// Where this differs from the original, on purpose:
//  - Sampling: the template is reduced through a premultiplied-alpha pyramid to about the
//    size it will have on the face before the bilinear warp (the original warps the full
//    size template, which aliases on small faces), and colours are interpolated weighted by
//    alpha so the template's black transparent surround leaves no dark fringe.
//  - Brightness: the face's V is measured on the cheeks and the nose (the original averages
//    the whole photo, background included) and the mask's V over its opaque pixels only
//    (the original also averages the black transparent surround, which makes that term
//    depend on the padding of each PNG). The original's saturation step is left out: it
//    reads V where it means S.
//  - Tint and texture keep the template's shading: the blend target is the tint (or texel)
//    colour plus the template's local luminance deviation from its mean, so pleats and folds
//    stay visible through the colour (the original's plain weighted average flattens them).
//    A texture's own alpha scales its strength.
//  - Compositing keeps a soft edge: the blend weight is 2 alpha - 1 (clamped to [0, 1]) of
//    the warped alpha, and the binary mask marks alpha > 0.5, so the mask holds exactly the
//    pixels that changed. The original pastes every pixel with non-zero alpha at full
//    strength, which leaves jagged edges.
//  - surgical_blue.png is the surgical template drawn 620x518 instead of 594x496 with the
//    same anchors listed; a colour variant whose anchors equal its plain variant's but whose
//    image size differs gets its anchors scaled by the size ratio (checked: the opaque
//    outline of surgical_blue.png is surgical.png's scaled by that ratio).
#include "data/mask_synth.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "data/homography.h"
#include "data/paths.h"
#include "data/warp.h"
#include "tensor/error.h"

namespace fs = std::filesystem;

namespace maskoff::data {

struct MaskSynthesizer::Entry {
  std::once_flag once;
  std::shared_ptr<const MaskTemplate> tmpl;
  std::shared_ptr<const std::vector<Image>> pyramid;  // textures
};

namespace {

constexpr int kPyramidMin = 24;  // stop halving below this size

std::vector<Image> build_pyramid(Image level0) {
  return rgba_pyramid(std::move(level0), kPyramidMin);
}

// Maps level-L pixel coordinates to level-0 ones (see halve_rgba).
Mat3 level_to_base(int level) {
  const double s = std::ldexp(1.0, level);
  return {s, 0, (s - 1) / 2, 0, s, (s - 1) / 2, 0, 0, 1};
}

// The pyramid level whose texels are at most twice smaller than a destination pixel, for
// a map that shrinks the base level by `scale` (base texels per destination pixel).
int pick_level(double scale, int n_levels) {
  if (!(scale > 1) || !std::isfinite(scale)) return 0;
  return std::min(n_levels - 1, static_cast<int>(std::floor(std::log2(scale))));
}

// Base texels per destination pixel around q for the destination -> base map `inv`.
double local_scale(const Mat3& inv, Point2 q) {
  Point2 p0 = apply_homography(inv, q), px = apply_homography(inv, {q.x + 1, q.y}),
         py = apply_homography(inv, {q.x, q.y + 1});
  double det = (px.x - p0.x) * (py.y - p0.y) - (px.y - p0.y) * (py.x - p0.x);
  return std::sqrt(std::abs(det));
}

// Width and height from a PNG's IHDR chunk, without decoding; {0, 0} when unreadable.
std::pair<int, int> png_size(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  unsigned char h[24];
  if (!f.read(reinterpret_cast<char*>(h), 24)) return {0, 0};
  if (h[1] != 'P' || h[2] != 'N' || h[3] != 'G' || h[12] != 'I' || h[13] != 'H' || h[14] != 'D' ||
      h[15] != 'R')
    return {0, 0};
  auto be = [&](int o) {
    return static_cast<int>((h[o] << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3]);
  };
  return {be(16), be(20)};
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream ss(line);
  while (std::getline(ss, field, '\t')) out.push_back(trim(field));
  if (!line.empty() && line.back() == '\t') out.push_back("");
  return out;
}

std::map<std::string, std::array<Point2, 6>> read_anchors(const std::string& path) {
  std::ifstream f(path);
  MASKOFF_CHECK(f, "MaskSynthesizer: cannot open the anchors file '" << path << "'");
  std::string line;
  int line_no = 0;
  std::vector<std::string> header;
  while (header.empty() && std::getline(f, line)) {
    ++line_no;
    if (!trim(line).empty()) header = split_tabs(line);
  }
  MASKOFF_CHECK(!header.empty(),
                "MaskSynthesizer: '" << path << "' is empty (expected a header line)");
  auto column = [&](const std::string& name) {
    auto it = std::find(header.begin(), header.end(), name);
    MASKOFF_CHECK(it != header.end(), "MaskSynthesizer: '" << path << "' line " << line_no
                                                           << ": no column '" << name
                                                           << "' in the header");
    return static_cast<int>(it - header.begin());
  };
  const int col_template = column("template");
  int cols[6][2];
  const char* letters = "abcdef";
  for (int k = 0; k < 6; ++k) {
    cols[k][0] = column(std::string(1, letters[k]) + "_x");
    cols[k][1] = column(std::string(1, letters[k]) + "_y");
  }
  std::map<std::string, std::array<Point2, 6>> out;
  while (std::getline(f, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    std::vector<std::string> fields = split_tabs(line);
    MASKOFF_CHECK(fields.size() == header.size(),
                  "MaskSynthesizer: '" << path << "' line " << line_no << ": " << fields.size()
                                       << " fields, the header has " << header.size());
    std::string name = fields[col_template];
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".png") == 0)
      name.resize(name.size() - 4);
    MASKOFF_CHECK(!name.empty(),
                  "MaskSynthesizer: '" << path << "' line " << line_no << ": empty template name");
    std::array<Point2, 6> pts;
    for (int k = 0; k < 6; ++k) {
      double v[2];
      for (int j = 0; j < 2; ++j) {
        const std::string& s = fields[cols[k][j]];
        char* end = nullptr;
        v[j] = std::strtod(s.c_str(), &end);
        MASKOFF_CHECK(!s.empty() && end == s.c_str() + s.size() && std::isfinite(v[j]),
                      "MaskSynthesizer: '" << path << "' line " << line_no << ": column '"
                                           << header[cols[k][j]] << "' holds '" << s
                                           << "', not a number");
      }
      pts[k] = {v[0], v[1]};
    }
    out[name] = pts;
  }
  MASKOFF_CHECK(!out.empty(), "MaskSynthesizer: '" << path << "' lists no templates");
  return out;
}

bool has_png(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string ext = it->path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (ext == ".png") return true;
  }
  return false;
}

inline float value_of(const float* c) { return std::max(c[0], std::max(c[1], c[2])); }
inline float luma_of(const float* c) { return 0.299f * c[0] + 0.587f * c[1] + 0.114f * c[2]; }
inline float clamp255(float v) { return std::min(255.f, std::max(0.f, v)); }

// Mean HSV value of the face on both cheeks and the nose: the skin the mask sits on, without
// background, hair or the eyes.
double face_brightness(const Image& face, const Landmarks& lm) {
  auto avg = [&](std::initializer_list<int> idx) {
    Point2 s;
    for (int i : idx) s = {s.x + lm[i].x, s.y + lm[i].y};
    return Point2{s.x / idx.size(), s.y / idx.size()};
  };
  const Point2 centres[3] = {avg({1, 2, 31, 41}), avg({15, 14, 35, 46}), lm[29]};
  const int r = std::max(1, static_cast<int>(0.12 * inter_ocular_distance(lm)));
  double sum = 0;
  long count = 0;
  for (const Point2& c : centres) {
    if (!std::isfinite(c.x) || !std::isfinite(c.y)) continue;
    const long cx = std::lround(c.x), cy = std::lround(c.y);
    for (long y = std::max(0L, cy - r); y <= std::min<long>(face.height - 1, cy + r); ++y)
      for (long x = std::max(0L, cx - r); x <= std::min<long>(face.width - 1, cx + r); ++x) {
        const uint8_t* p = face.pixels.data() + (static_cast<size_t>(y) * face.width + x) * 3;
        sum += std::max(p[0], std::max(p[1], p[2]));
        ++count;
      }
  }
  if (count == 0) {  // landmarks off the image: the whole photo is the best guess
    for (size_t i = 0; i < face.pixels.size(); i += 3)
      sum += std::max(face.pixels[i], std::max(face.pixels[i + 1], face.pixels[i + 2]));
    count = static_cast<long>(face.pixels.size() / 3);
  }
  return sum / std::max(1L, count);
}

}  // namespace

const std::vector<MaskType>& all_mask_types() {
  static const std::vector<MaskType> types = {
      MaskType::Surgical, MaskType::SurgicalBlue, MaskType::SurgicalGreen,
      MaskType::N95,      MaskType::KN95,         MaskType::Cloth,
      MaskType::Gas};
  return types;
}

std::string mask_type_name(MaskType t) {
  // In the order MaskType declares them.
  static const char* const kNames[] = {"surgical", "surgical_blue", "surgical_green", "N95", "KN95",
                                       "cloth",    "gas",           "procedural"};
  static_assert(std::size(kNames) == static_cast<size_t>(MaskType::Procedural) + 1);
  const auto i = static_cast<size_t>(t);
  MASKOFF_CHECK(i < std::size(kNames), "mask_type_name: invalid MaskType " << i);
  return kNames[i];
}

MaskType parse_mask_type(const std::string& s) {
  std::string names;
  std::vector<MaskType> types = all_mask_types();
  types.push_back(MaskType::Procedural);
  for (MaskType t : types) {
    if (mask_type_name(t) == s) return t;
    names += (names.empty() ? "" : ", ") + mask_type_name(t);
  }
  MASKOFF_FAIL("unknown mask type '" << s << "' (valid: " << names << ")");
}

MaskTemplate procedural_template(MaskType type, MaskView view) {
  // A pleated surgical mask drawn in code: the body lies between a top edge peaking at the
  // nose and a bottom edge dipping under the chin, closed by short vertical sides. u runs
  // along the width from -1 (left side) through 0 (the peak, anchor b) to 1 (right side).
  // Its proportions and anchors follow the measured outlines of the file templates:
  //  - frontal (surgical.png): the top falls about 75 px from the peak to the sides, which
  //    keeps it clear of the lower eyelids; a, c sit near the top of the sides, d, f near
  //    their bottom, e a little above the lowest point.
  //  - turned to the left (surgical_left.png; _right is its mirror image): the peak sits a
  //    fifth of the way across, the top is nearly flat at the height of a and c, and the
  //    body stops short of c on the wide side, where only the ear loop would continue.
  //    Drawing the frontal mask onto a turned face instead would let the homography swell
  //    its near half and reach the eye.
  constexpr int W = 600, H = 500;
  constexpr double xl = 25, xr = 575;
  const bool turned = view != MaskView::Front, mirror = view == MaskView::Right;
  const double xb = turned ? 135 : 300, u_max = turned ? 0.82 : 1.0;
  auto u_of = [&](double x) { return x < xb ? (x - xb) / (xb - xl) : (x - xb) / (xr - xb); };
  auto top = [&](double u) {
    return turned ? 12 + 16 * u * u : 18 + 40 * std::abs(u) + 35 * u * u;
  };
  auto bottom = [&](double u) {
    return turned ? 345 - (u < 0 ? 95 : 150) * u * u : 482 - 190 * u * u;
  };
  // The base colour of each type, in the order MaskType declares them.
  static const float kBase[][3] = {{172, 206, 232}, {120, 180, 225}, {125, 192, 178},
                                   {236, 236, 230}, {236, 236, 230}, {62, 62, 68},
                                   {112, 132, 152}, {172, 206, 232}};
  static_assert(std::size(kBase) == static_cast<size_t>(MaskType::Procedural) + 1);
  const float* base = kBase[static_cast<size_t>(type)];
  const double x_end = xb + u_max * (xr - xb);
  Image img(W, H, 4, 0);
  for (int y = 0; y < H; ++y)
    for (int px = 0; px < W; ++px) {
      const double x = mirror ? W - px : px;  // _right: the _left drawing mirrored about W / 2
      const double t = u_of(x), yt = top(t), yb = bottom(t);
      // Distance to the nearest edge (vertical distance for the curved edges is close
      // enough at these slopes) gives a one-pixel anti-aliased outline.
      const double inside = std::min({x - xl, x_end - x, y - yt, yb - y});
      const double alpha = std::clamp(inside + 0.5, 0.0, 1.0);
      if (alpha <= 0) continue;
      const double v = std::clamp((y - yt) / (yb - yt), 0.0, 1.0);
      double shade = 1.0;
      for (double fold : {0.3, 0.5, 0.7}) {  // a shadow under each pleat, a highlight above
        const double d = v - fold;
        if (d > 0 && d < 0.08) shade -= 0.18 * (1 - d / 0.08);
        if (d > -0.03 && d <= 0) shade += 0.06;
      }
      if (v < 0.06 || v > 0.94) shade += 0.05;  // binding strips
      shade *=
          0.8 + 0.2 * std::sqrt(std::max(0.0, std::cos(1.5707963 * std::min(1.0, std::abs(t)))));
      shade *= 1 - 0.06 * v;
      uint8_t* p = img.pixels.data() + (static_cast<size_t>(y) * W + px) * 4;
      for (int k = 0; k < 3; ++k)
        p[k] = static_cast<uint8_t>(clamp255(static_cast<float>(base[k] * shade)) + 0.5f);
      p[3] = static_cast<uint8_t>(alpha * 255 + 0.5);
    }
  MaskTemplate t;
  t.name = "procedural_" + mask_type_name(type) + view_suffix(view);
  if (!turned) {
    t.anchors = {Point2{xl, 100}, Point2{xb, top(0)}, Point2{xr, 100},
                 Point2{xl, 320}, Point2{xb, 470},    Point2{xr, 320}};
  } else {
    t.anchors = {Point2{xl, 35},  Point2{xb, top(0)}, Point2{xr, 35},
                 Point2{70, 215}, Point2{165, 310},   Point2{xr, 215}};
    if (mirror) {  // the mirrored left-hand points become the right-hand ones
      auto m = [&](Point2 p) { return Point2{W - p.x, p.y}; };
      const auto a = t.anchors;
      t.anchors = {m(a[2]), m(a[1]), m(a[0]), m(a[5]), m(a[4]), m(a[3])};
    }
  }
  t.levels = build_pyramid(std::move(img));
  return t;
}

MaskSynthesizer::MaskSynthesizer(const std::string& masks_dir) : dir_(masks_dir) {
  std::error_code ec;
  if (masks_dir.empty()) {
    procedural_ = true;
    why_procedural_ = "no masks folder given";
  } else if (!fs::is_directory(masks_dir, ec)) {
    procedural_ = true;
    why_procedural_ = "'" + masks_dir + "' is not a folder";
  } else if (!has_png(fs::path(masks_dir) / "templates")) {
    procedural_ = true;
    why_procedural_ = "no PNG templates in '" + (fs::path(masks_dir) / "templates").string() + "'";
  } else {
    anchors_ = read_anchors((fs::path(masks_dir) / "anchors.tsv").string());
  }
}

MaskSynthesizer::~MaskSynthesizer() = default;

std::string MaskSynthesizer::source_description() const {
  if (procedural_) return "procedural surgical mask (" + why_procedural_ + ")";
  return std::to_string(anchors_.size()) + " mask templates from '" + dir_ + "'";
}

std::vector<std::string> MaskSynthesizer::texture_paths() const {
  if (procedural_) return {};
  const fs::path dir = fs::path(dir_) / "textures";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return {};
  return list_images(dir.string());
}

std::shared_ptr<MaskSynthesizer::Entry> MaskSynthesizer::entry(
    std::map<std::string, std::shared_ptr<Entry>>& cache, const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = cache[key];
  if (!slot) slot = std::make_shared<Entry>();
  return slot;
}

std::shared_ptr<const MaskTemplate> MaskSynthesizer::load(const std::string& name) const {
  const std::shared_ptr<Entry> e = entry(templates_, name);
  // Loading runs outside the map lock so threads wanting different templates do not wait
  // for each other; call_once makes the others wanting this one wait (and retry if it threw).
  std::call_once(e->once, [&] {
    auto t = std::make_shared<MaskTemplate>();
    t->name = name;
    if (procedural_) {
      std::string type = name.substr(std::string("procedural_").size());
      MaskView view = MaskView::Front;
      for (MaskView v : {MaskView::Left, MaskView::Right}) {
        const std::string suffix = view_suffix(v);
        if (type.size() > suffix.size() &&
            type.compare(type.size() - suffix.size(), suffix.size(), suffix) == 0) {
          type.resize(type.size() - suffix.size());
          view = v;
        }
      }
      *t = procedural_template(parse_mask_type(type), view);
    } else {
      const fs::path png = fs::path(dir_) / "templates" / (name + ".png");
      Image img = read_image_rgba(png.string());
      t->anchors = anchors_.at(name);
      // A colour variant listed with its plain variant's anchors but drawn at another size.
      for (const std::string colour : {"_blue", "_green"}) {
        const size_t pos = name.find(colour);
        if (pos == std::string::npos) continue;
        const std::string plain = name.substr(0, pos) + name.substr(pos + colour.size());
        auto it = anchors_.find(plain);
        if (it == anchors_.end()) continue;
        bool same = true;
        for (int k = 0; k < 6; ++k)
          same = same && it->second[k].x == t->anchors[k].x && it->second[k].y == t->anchors[k].y;
        const auto [pw, ph] = png_size((fs::path(dir_) / "templates" / (plain + ".png")).string());
        if (same && pw > 0 && ph > 0 && (pw != img.width || ph != img.height)) {
          for (Point2& p : t->anchors) p = {p.x * img.width / pw, p.y * img.height / ph};
        }
      }
      t->levels = build_pyramid(std::move(img));
    }
    e->tmpl = t;
  });
  return e->tmpl;
}

std::shared_ptr<const MaskTemplate> MaskSynthesizer::template_for(MaskType type,
                                                                  MaskView view) const {
  MASKOFF_CHECK(type != MaskType::Procedural,
                "MaskSynthesizer::template_for: procedural masks are drawn per face "
                "(random_mask_template), not loaded");
  const std::string base = mask_type_name(type);
  if (procedural_) return load("procedural_" + base + view_suffix(view));
  const std::string variant = base + view_suffix(view);
  if (anchors_.count(variant)) return load(variant);
  MASKOFF_CHECK(anchors_.count(base),
                "MaskSynthesizer: no template '" << base << "' in '" << dir_ << "/anchors.tsv'");
  return load(base);
}

std::shared_ptr<const std::vector<Image>> MaskSynthesizer::texture_pyramid(
    const std::string& path) const {
  const std::shared_ptr<Entry> e = entry(textures_, path);
  std::call_once(e->once, [&] {
    e->pyramid = std::make_shared<const std::vector<Image>>(build_pyramid(read_image_rgba(path)));
  });
  return e->pyramid;
}

MaskedFace MaskSynthesizer::apply(const Image& face, const Landmarks& lm,
                                  const MaskOptions& opt) const {
  MASKOFF_CHECK(!face.empty() && face.channels == 3 &&
                    face.pixels.size() == static_cast<size_t>(face.width) * face.height * 3,
                "MaskSynthesizer::apply: expects a non-empty RGB image, got "
                    << face.width << "x" << face.height << "x" << face.channels);
  MASKOFF_CHECK(opt.tint_strength >= 0 && opt.tint_strength <= 1 && opt.texture_strength >= 0 &&
                    opt.texture_strength <= 1,
                "MaskSynthesizer::apply: tint_strength "
                    << opt.tint_strength << " and texture_strength " << opt.texture_strength
                    << " must lie in [0, 1]");
  const FaceAnchors fa = face_anchors(lm);
  const MaskView view = choose_view(fa.turn_deg);
  const auto face_pts = anchors_in_template_order(fa);
  const std::vector<Point2> dst(face_pts.begin(), face_pts.end());
  Point2 centre;
  for (const Point2& p : dst) centre = {centre.x + p.x / 6, centre.y + p.y / 6};
  auto place = [&](const std::string& name, const std::array<Point2, 6>& ta) {
    const std::vector<Point2> src = {ta[0], ta[1], ta[2], ta[5], ta[4], ta[3]};
    try {
      return homography_from_points(src, dst);
    } catch (const Error& err) {
      MASKOFF_FAIL("MaskSynthesizer::apply: cannot place template '"
                   << name << "' on these landmarks: " << err.what());
    }
  };
  const bool random = opt.type == MaskType::Procedural;
  std::shared_ptr<const MaskTemplate> tmpl;
  if (random) {
    // Drawn at about 1.25 template pixels per face pixel: sharp, and no larger than needed.
    const double units_per_px =
        local_scale(invert(place("procedural", random_mask_anchors(view))), centre);
    double resolution = 1.25 / units_per_px;
    resolution = std::isfinite(resolution) ? std::clamp(resolution, 0.1, 1.5) : 0.25;
    // The eyes, in the pixels of the template about to be drawn.
    const Mat3 to_template = invert(place("procedural", random_mask_anchors(view, resolution)));
    std::vector<Point2> eyes;
    for (int k = 36; k <= 47; ++k) eyes.push_back(apply_homography(to_template, lm[k]));
    std::shared_ptr<const std::vector<Image>> fabric;
    if (!opt.texture_path.empty() && opt.texture_strength > 0)
      fabric = texture_pyramid(opt.texture_path);
    tmpl = std::make_shared<const MaskTemplate>(random_mask_template(
        opt.procedural_seed, view, fabric.get(), opt.texture_strength, resolution, eyes));
  } else {
    tmpl = template_for(opt.type, view);
  }
  const Mat3 h = place(tmpl->name, tmpl->anchors);
  const int W = face.width, H = face.height;
  const double scale = local_scale(invert(h), centre);
  const int level = pick_level(scale, static_cast<int>(tmpl->levels.size()));
  const Mat3 level_to_face = mat3_mul(h, level_to_base(level));
  Image warped = warp_perspective(tmpl->levels[level], level_to_face, W, H);

  Image tex_warped;  // a random mask has its fabric drawn in already
  if (!random && !opt.texture_path.empty() && opt.texture_strength > 0) {
    // The texture is stretched over the whole template image, as the original resizes it
    // to the template's size.
    const auto pyr = texture_pyramid(opt.texture_path);
    const Image& t0 = (*pyr)[0];
    const Image& base = tmpl->levels[0];
    const double sx = static_cast<double>(base.width) / t0.width,
                 sy = static_cast<double>(base.height) / t0.height;
    const Mat3 tex_to_tmpl = {sx, 0, 0.5 * sx - 0.5, 0, sy, 0.5 * sy - 0.5, 0, 0, 1};
    const int tl = pick_level(scale / std::sqrt(sx * sy), static_cast<int>(pyr->size()));
    tex_warped =
        warp_perspective((*pyr)[tl], mat3_mul(h, mat3_mul(tex_to_tmpl, level_to_base(tl))), W, H);
  }

  // Only the template's footprint can hold mask pixels; on a large photo it is a small part.
  const PixelBox box =
      warp_bounds(level_to_face, tmpl->levels[level].width, tmpl->levels[level].height, W, H);
  const int bw = box.x1 - box.x0, bh = box.y1 - box.y0;
  const size_t n = static_cast<size_t>(std::max(0, bw)) * std::max(0, bh);
  auto pixel = [&](size_t j) {
    return (static_cast<size_t>(box.y0) + j / bw) * W + box.x0 + j % bw;
  };
  std::vector<float> col(n * 3);  // processed mask colour where alpha > 0, over the box
  double sum_a = 0, sum_luma = 0;
  for (size_t j = 0; j < n; ++j) {
    const uint8_t* p = &warped.pixels[pixel(j) * 4];
    if (p[3] == 0) continue;
    const float c[3] = {static_cast<float>(p[0]), static_cast<float>(p[1]),
                        static_cast<float>(p[2])};
    sum_a += p[3];
    sum_luma += p[3] * luma_of(c);
  }
  const float mean_luma = sum_a > 0 ? static_cast<float>(sum_luma / sum_a) : 0.f;
  double sum_v = 0;
  const float tint_s = opt.tint ? static_cast<float>(opt.tint_strength) : 0.f;
  for (size_t j = 0; j < n; ++j) {
    const size_t i = pixel(j);
    const uint8_t* p = &warped.pixels[i * 4];
    if (p[3] == 0) continue;
    float* c = &col[j * 3];
    for (int k = 0; k < 3; ++k) c[k] = p[k];
    const float shading = luma_of(c) - mean_luma;
    if (!tex_warped.empty()) {
      const uint8_t* q = &tex_warped.pixels[i * 4];
      const float s = static_cast<float>(opt.texture_strength) * q[3] * (1.f / 255.f);
      for (int k = 0; k < 3; ++k) c[k] = (1 - s) * c[k] + s * clamp255(q[k] + shading);
    }
    if (tint_s > 0) {
      for (int k = 0; k < 3; ++k)
        c[k] = (1 - tint_s) * c[k] + tint_s * clamp255(opt.tint_rgb[k] + shading);
    }
    sum_v += p[3] * value_of(c);
  }

  MaskedFace out;
  out.template_name = tmpl->name;
  out.masked = face;
  out.mask = Image(W, H, 1, 0);
  if (sum_a <= 0) return out;
  const double mask_v = sum_v / sum_a;
  const double strength = random ? random_mask_brightness_strength(opt.procedural_seed) : 1.0;
  const float gain =
      static_cast<float>(std::max(0.0, 1 + strength * (face_brightness(face, lm) - mask_v) / 255));
  for (size_t j = 0; j < n; ++j) {
    const size_t i = pixel(j);
    const uint8_t a8 = warped.pixels[i * 4 + 3];
    if (a8 == 0) continue;
    float* c = &col[j * 3];
    float v = value_of(c) * gain;
    // Clip V at 255 the way an HSV edit would: scale the colour down as a whole.
    const float fit = v > 255.f ? 255.f / v : 1.f;
    // Blend by 2 alpha - 1: pixels below half coverage stay untouched, so the binary mask
    // (alpha > 0.5) holds every changed pixel, and the edge is still anti-aliased.
    const float a = std::max(0.f, (2.f * a8 - 255.f) * (1.f / 255.f));
    uint8_t* o = &out.masked.pixels[i * 3];
    for (int k = 0; k < 3; ++k)
      o[k] = static_cast<uint8_t>(clamp255((1 - a) * o[k] + a * c[k] * gain * fit) + 0.5f);
    out.mask.pixels[i] = a8 >= 128 ? 255 : 0;
  }
  return out;
}

}  // namespace maskoff::data
