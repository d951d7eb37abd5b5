// Perspective warping of 8-bit images: inverse mapping through a homography with bilinear,
// alpha-weighted sampling, and a premultiplied 2x2 reduction for building RGBA pyramids.
#pragma once
#include <vector>

#include "data/homography.h"
#include "data/image.h"

namespace maskoff::data {

// An out_w x out_h RGBA image: each destination pixel centre is mapped through the inverse
// of src_to_dst into src (pixel centres at integer coordinates) and sampled bilinearly.
// Taps outside src count as transparent, so alpha falls to 0 within a pixel of the source's
// edge and is 0 beyond it. Colours are interpolated weighted by alpha (premultiplied) and
// stored straight, so transparent texels (usually black) never darken an edge. src may have
// 1, 3 or 4 channels (1 and 3 are opaque). Only the bounding box of the warped source
// quad is visited. Bilinear sampling aliases when shrinking by more than about 2x: reduce
// the source first (halve_rgba) when the map shrinks it that much.
Image warp_perspective(const Image& src, const Mat3& src_to_dst, int out_w, int out_h);

// The half-open pixel rectangle [x0, x1) x [y0, y1) of an out_w x out_h destination that
// warp_perspective can write for a src_w x src_h source (the whole destination when part of
// the source maps behind the projection centre).
struct PixelBox {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};
PixelBox warp_bounds(const Mat3& src_to_dst, int src_w, int src_h, int out_w, int out_h);

// RGBA 2x2 box reduction in premultiplied alpha (odd sizes round up; the missing texels
// count as transparent). Level k of a pyramid has coordinates p_k = (p_0 + 0.5) / 2^k - 0.5.
Image halve_rgba(const Image& src);
// level0 and its halvings (halve_rgba) while the larger side is at least 2 * min_size.
std::vector<Image> rgba_pyramid(Image level0, int min_size);

}  // namespace maskoff::data
