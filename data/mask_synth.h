// Synthetic face masks in the manner of MaskTheFace: a mask template (RGBA photo with six
// marked anchor points) is mapped onto the face's six landmark-derived anchors by a
// homography, matched to the face's brightness, optionally tinted or textured, and
// composited; the covered pixels are returned as a binary mask.
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

enum class MaskType { Surgical, SurgicalBlue, SurgicalGreen, N95, KN95, Cloth, Gas };
const std::vector<MaskType>& all_mask_types();
// "surgical", "surgical_blue", "surgical_green", "N95", "KN95", "cloth", "gas" (the
// template file stems).
std::string mask_type_name(MaskType t);
MaskType parse_mask_type(const std::string& s);  // error lists the valid names

struct MaskOptions {
  MaskType type = MaskType::Surgical;
  bool tint = false;
  std::array<uint8_t, 3> tint_rgb{0, 0, 0};
  double tint_strength = 0.5;     // 0: template colours, 1: tint colour (template shading kept)
  std::string texture_path;       // empty: none
  double texture_strength = 0.5;  // scaled further by the texture's own alpha
};

struct MaskedFace {
  Image masked;               // RGB, the face's size
  Image mask;                 // 1 channel: 255 where the mask's alpha > 0.5, else 0
  std::string template_name;  // e.g. "surgical_left", or "procedural_surgical_left"
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
  // homography) or a file cannot be read.
  MaskedFace apply(const Image& face, const Landmarks& lm, const MaskOptions& opt) const;

  // Texture images under masks_dir/textures (recursive, sorted); empty for the procedural
  // source.
  std::vector<std::string> texture_paths() const;
  // Where the masks come from, e.g. "21 mask templates from '/x/masks'" or "procedural surgical
  // mask (no PNG templates in '/x/masks/templates')".
  std::string source_description() const;
  bool procedural() const { return procedural_; }
  // The template apply() would use for this type and view (falls back to the frontal one
  // when the variant is missing).
  std::shared_ptr<const MaskTemplate> template_for(MaskType type, MaskView view) const;

 private:
  struct Entry;
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

}  // namespace maskoff::data
