// Pasting a retouched face back into a photo: the lower-face region a face mask covers,
// taken from the 68 landmarks, as feathered per-pixel weights, and the weighted blend.
#pragma once
#include <vector>

#include "data/face.h"
#include "data/image.h"
#include "data/warp.h"

namespace maskoff::data {

// The polygon a worn mask covers, in the landmarks' pixel coordinates: the jaw line from
// point 1 to point 15 (counting from 0; the end points 0 and 16 sit at ear level, above
// where a mask's sides run) and, closing it at the top, point 28, the second point down
// the nose bridge, where a mask's upper edge rests.
std::vector<Point2> lower_face_polygon(const Landmarks& lm);

// The polygon's width scale for dilation and feathering: the distance from jaw point 1
// to jaw point 15.
double lower_face_width(const Landmarks& lm);

// Blend weights in [0, 1] over `box` (row-major, box.width() x box.height() values), a
// rectangle of a width x height image clipped to it. With d the distance from a pixel
// centre to the polygon (0 inside): weight 1 for d <= dilate, 0 for d >= dilate + feather,
// and a smoothstep between (1 - t^2 (3 - 2t) with t = (d - dilate) / feather), so the
// pasted face has no visible seam. Pixels outside `box` have weight 0.
struct RegionWeights {
  PixelBox box;
  std::vector<float> w;
  int width() const { return box.x1 - box.x0; }
  int height() const { return box.y1 - box.y0; }
  float at(int x, int y) const;  // 0 outside the box
};
RegionWeights feathered_region(const std::vector<Point2>& polygon, double dilate, double feather,
                               int width, int height);

// dst = dst + w * (alpha / 255) * (src - dst), rounded, for every pixel where that weight
// is positive; every other pixel of dst is left exactly as it was. src is RGBA of dst's
// size (warp_perspective's output: alpha is the warped face's coverage); dst is RGB.
void blend_into(Image& dst, const Image& src_rgba, const RegionWeights& region);

}  // namespace maskoff::data
