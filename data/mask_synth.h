// Synthetic face masks in the manner of MaskTheFace: a mask template (RGBA photo with six
// marked anchor points) is mapped onto the face's six landmark-derived anchors by a
// homography, matched to the face's brightness, optionally tinted or textured, and
// composited; the covered pixels are returned as a binary mask. The procedural type draws a
// new random template for every face instead (random_mask.cpp).
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "data/face.h"
#include "data/image.h"
#include "data/mask_anchors.h"

namespace maskoff::data {

// Procedural: a random mask shape and look per face (random_mask_template), drawn from
// MaskOptions::procedural_seed; not a template file.
enum class MaskType { Surgical, SurgicalBlue, SurgicalGreen, N95, KN95, Cloth, Gas, Procedural };
// The seven template types (not Procedural): what "all" means, so datasets built with every
// template type stay as they were.
const std::vector<MaskType>& all_mask_types();
// "surgical", "surgical_blue", "surgical_green", "N95", "KN95", "cloth", "gas" (the
// template file stems), "procedural".
std::string mask_type_name(MaskType t);
MaskType parse_mask_type(const std::string& s);  // error lists the valid names

struct MaskOptions {
  MaskType type = MaskType::Surgical;
  bool tint = false;
  std::array<uint8_t, 3> tint_rgb{0, 0, 0};
  double tint_strength = 0.5;     // 0: template colours, 1: tint colour (template shading kept)
  std::string texture_path;       // empty: none (Procedural: the fabric drawn on the mask)
  double texture_strength = 0.5;  // scaled further by the texture's own alpha
  uint64_t procedural_seed = 0;   // Procedural: every choice of shape, look and straps
};

struct MaskedFace {
  Image masked;               // RGB, the face's size
  Image mask;                 // 1 channel: 255 where the mask's alpha > 0.5, else 0
  std::string template_name;  // e.g. "surgical_left", "procedural_surgical_left" (fallback),
                              // or "procedural_left" (MaskType::Procedural)
};

// A loaded template: an RGBA pyramid (level 0 = the file) and its anchors a..f in level-0
// pixels.
struct MaskTemplate {
  std::string name;
  std::vector<Image> levels;
  std::array<Point2, 6> anchors;  // a, b, c, d, e, f
};

class MaskSynthesizer {
 public:
  // masks_dir holds templates/<name>.png, anchors.tsv and textures/. When it is empty, does
  // not exist, or templates/ holds no PNG, a procedural surgical mask drawn in code is used
  // for every type. Templates and textures load lazily and are cached; errors name the file.
  explicit MaskSynthesizer(const std::string& masks_dir);
  ~MaskSynthesizer();

  // Thread-safe. face: RGB. Throws maskoff::Error when the landmarks are degenerate (no
  // homography) or a file cannot be read. MaskType::Procedural draws random_mask_template
  // (opt.procedural_seed, the face's view, opt.texture_path as its fabric, the eyes kept
  // clear) at about the face's resolution, in the fallback mode too; its brightness is pulled
  // towards the face's only partly (by a strength drawn from the seed, often 0), so black and white
  // masks stay black and white.
  MaskedFace apply(const Image& face, const Landmarks& lm, const MaskOptions& opt) const;

  // Texture images under masks_dir/textures (recursive, sorted); empty for the procedural
  // source.
  std::vector<std::string> texture_paths() const;
  // Where the masks come from, e.g. "21 mask templates from '/x/masks'" or "procedural surgical
  // mask (no PNG templates in '/x/masks/templates')".
  std::string source_description() const;
  bool procedural() const { return procedural_; }
  // The template apply() would use for this type and view (falls back to the frontal one
  // when the variant is missing). Not for MaskType::Procedural (throws): see
  // random_mask_template.
  std::shared_ptr<const MaskTemplate> template_for(MaskType type, MaskView view) const;

 private:
  struct Entry;
  // The cache entry for key, made empty the first time (under mu_).
  std::shared_ptr<Entry> entry(std::map<std::string, std::shared_ptr<Entry>>& cache,
                               const std::string& key) const;
  std::shared_ptr<const MaskTemplate> load(const std::string& name) const;
  std::shared_ptr<const std::vector<Image>> texture_pyramid(const std::string& path) const;

  std::string dir_;
  bool procedural_ = false;
  std::string why_procedural_;
  std::map<std::string, std::array<Point2, 6>> anchors_;  // by template name (no .png)
  mutable std::mutex mu_;
  mutable std::map<std::string, std::shared_ptr<Entry>> templates_;
  mutable std::map<std::string, std::shared_ptr<Entry>> textures_;
};

// The built-in procedural mask (light blue for the surgical types, other base colours for
// the rest), drawn frontal or for a head turned left or right: an RGBA pyramid and its
// anchors a..f. Public for tests and for looking at it.
MaskTemplate procedural_template(MaskType type, MaskView view = MaskView::Front);

// A random mask, every choice taken from `seed` (same seed, same bytes): its outline (width
// from inside the jaw anchors to well past them, a peaked, rounded or flat top from a little
// above the nose-bridge anchor b to below it, a rounded or pointed bottom from just under the
// chin anchor e to well below it, sometimes a centre seam or edge binding), its look (solid
// colours from black to white and saturated, gradients, stripes, dots, checks, small printed
// shapes, or `fabric` when given; pleats some of the time; shading) and ear straps some of the
// time (bands from the sides towards the ears, part of the mask). Drawn in the frame of
// procedural_template: frontal, or for a head turned left (right: mirrored), 600 x 500 units
// between the anchors plus room around them for straps and long bottoms. fabric: an RGBA
// pyramid of a pattern image (level 0 the file, then halvings; one level is enough), blended
// over the mask's colour by fabric_strength times its alpha, tiled at a random scale.
// resolution: template pixels per unit (1: about procedural_template's size). keep_clear:
// points (template pixels, like the anchors) that the body and the straps stay clear of:
// the top edge dips to pass below each, a strap that would cross one is left off; apply()
// passes the eye landmarks, which the shape's ranges alone would cover on faces with a short
// nose (a child's). Name "procedural" plus the view's suffix.
MaskTemplate random_mask_template(uint64_t seed, MaskView view = MaskView::Front,
                                  const std::vector<Image>* fabric = nullptr,
                                  double fabric_strength = 1.0, double resolution = 1.0,
                                  const std::vector<Point2>& keep_clear = {});
// The anchors a..f of random_mask_template(seed, view, ..., resolution) for any seed.
std::array<Point2, 6> random_mask_anchors(MaskView view, double resolution = 1.0);
// How strongly apply() pulls a random mask's brightness towards the face's (0: not at all,
// 1: as for templates), drawn from the seed.
double random_mask_brightness_strength(uint64_t seed);

}  // namespace maskoff::data
