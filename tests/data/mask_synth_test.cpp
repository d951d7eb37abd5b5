// Mask synthesis: face anchors on a synthetic symmetric face, the turn rule and its mirror
// symmetry, jaw-line and ellipse intersections, anchors.tsv parsing and its errors, the
// procedural fallback, colour options, robustness, determinism, the random (procedural-type)
// masks, and on the shared FFHQ faces: the surgical and the random masks cover the nose tip
// and mouth and leave the eyes free.
#include <gtest/gtest.h>
#include "tests/test_util.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "data/face.h"
#include "data/mask_anchors.h"
#include "data/mask_synth.h"
#include "data/paths.h"
#include "tensor/error.h"
#include "tests/data/temp_dir.h"

namespace maskoff::data {
namespace {
using maskoff::testing::error_of;

using testing::TempDir;

constexpr double kPi = 3.14159265358979323846;

// A frontal face symmetric about x = cx: jaw on an ellipse arc (centre (cx, 110), radii
// 80 x 100, point 0 at y = 110), eyes at y = 100, nose bridge 27..30 from y = 100 to 140,
// lowest lower-lip point 57 at y = 192, chin (point 8) at (cx, 210).
Landmarks synthetic_face(double cx = 128) {
  Landmarks lm;
  for (int i = 0; i <= 16; ++i) {
    const double th = kPi - i * kPi / 16;
    lm[i] = {cx + 80 * std::cos(th), 110 + 100 * std::sin(th)};
  }
  lm[8] = {cx, 210};
  for (int k = 0; k < 5; ++k) {
    lm[17 + k] = {cx - 60 + 10 * k, 80};
    lm[22 + k] = {cx + 20 + 10 * k, 80};
  }
  for (int k = 0; k < 4; ++k) lm[27 + k] = {cx, 100 + 40.0 * k / 3};
  const double nose[5][2] = {{-15, 150}, {-8, 153}, {0, 155}, {8, 153}, {15, 150}};
  for (int k = 0; k < 5; ++k) lm[31 + k] = {cx + nose[k][0], nose[k][1]};
  const double eyes[12][2] = {{-45, 0}, {-38, -5}, {-28, -5}, {-21, 0}, {-28, 5}, {-38, 5},
                              {21, 0},  {28, -5},  {38, -5},  {45, 0},  {38, 5},  {28, 5}};
  for (int k = 0; k < 12; ++k) lm[36 + k] = {cx + eyes[k][0], 100 + eyes[k][1]};
  const double mouth[20][2] = {{-25, 178}, {-15, 172}, {-6, 170},  {0, 171},  {6, 170},
                               {15, 172},  {25, 178},  {15, 188},  {6, 191},  {0, 192},
                               {-6, 191},  {-15, 188}, {-20, 178}, {-8, 176}, {0, 176},
                               {8, 176},   {20, 178},  {8, 182},   {0, 183},  {-8, 182}};
  for (int k = 0; k < 20; ++k) lm[48 + k] = {cx + mouth[k][0], mouth[k][1]};
  return lm;
}

// The same face with the nose swung 12 px towards the image's left, as a head turned to the
// left shows it (the tip moves most, the bridge top not at all).
Landmarks turned_left_face() {
  Landmarks lm = synthetic_face();
  for (int k = 1; k < 4; ++k) lm[27 + k].x -= 4.0 * k;
  for (int k = 31; k <= 35; ++k) lm[k].x -= 12;
  return lm;
}

Landmarks transformed(const Landmarks& lm, double angle_deg, double scale, Point2 shift) {
  const double c = std::cos(angle_deg * kPi / 180), s = std::sin(angle_deg * kPi / 180);
  Landmarks out;
  for (int i = 0; i < 68; ++i) {
    const double x = lm[i].x - 128, y = lm[i].y - 128;
    out[i] = {128 + scale * (c * x - s * y) + shift.x, 128 + scale * (s * x + c * y) + shift.y};
  }
  return out;
}

Image grey_face(uint8_t v, int w = 256, int h = 256) { return Image(w, h, 3, v); }

bool same_bytes(const Image& a, const Image& b) {
  return a.width == b.width && a.height == b.height && a.channels == b.channels &&
         a.pixels == b.pixels;
}

std::string shared_masks_dir() {
  const std::string d = default_masks_dir();
  std::error_code ec;
  return !d.empty() && std::filesystem::exists(std::filesystem::path(d) / "anchors.tsv", ec) ? d
                                                                                             : "";
}

#define REQUIRE_SHARED_MASKS(dir)                                                 \
  const std::string dir = shared_masks_dir();                                     \
  if (dir.empty())                                                                \
  GTEST_SKIP() << "shared mask templates not found (set MASKOFF_SHARED or place " \
                  "the shared folder beside the repository)"

FaceAnalyzer& analyzer() {
  static FaceAnalyzer fa;
  return fa;
}

// Landmarks of the largest face, or false when none is found.
bool landmarks_of(const Image& img, Landmarks& lm) {
  auto boxes = analyzer().detect(img, 0);
  if (boxes.empty()) boxes = analyzer().detect(img, 1);
  if (boxes.empty()) return false;
  const FaceBox* best = &boxes[0];
  for (const FaceBox& b : boxes)
    if (b.right - b.left > best->right - best->left) best = &b;
  lm = analyzer().landmarks(img, *best);
  return true;
}

Image mirrored(const Image& img) {
  Image out(img.width, img.height, img.channels);
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x)
      for (int c = 0; c < img.channels; ++c) out.at(img.width - 1 - x, y, c) = img.at(x, y, c);
  return out;
}

// ---- names, geometry helpers -----------------------------------------------------------

TEST(MaskSynth, TypeNamesRoundTrip) {
  ASSERT_EQ(all_mask_types().size(), 7u);
  for (MaskType t : all_mask_types()) EXPECT_EQ(parse_mask_type(mask_type_name(t)), t);
  EXPECT_EQ(mask_type_name(MaskType::SurgicalBlue), "surgical_blue");
  EXPECT_EQ(mask_type_name(MaskType::KN95), "KN95");
  const std::string err = error_of([] { parse_mask_type("n95"); });
  EXPECT_NE(err.find("'n95'"), std::string::npos);
  EXPECT_NE(err.find("surgical, surgical_blue, surgical_green, N95, KN95, cloth, gas"),
            std::string::npos);
}

TEST(MaskSynth, LinePolylineIntersections) {
  const std::vector<Point2> poly = {{0, 0}, {10, 0}, {10, 10}};
  auto hits = line_polyline_intersections({5, -5}, {0, 1}, poly);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_DOUBLE_EQ(hits[0].x, 5);
  EXPECT_DOUBLE_EQ(hits[0].y, 0);
  // Through the shared vertex (10, 0): counted once.
  hits = line_polyline_intersections({0, -10}, {1, 1}, poly);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_NEAR(hits[0].x, 10, 1e-12);
  EXPECT_NEAR(hits[0].y, 0, 1e-12);
  // Two crossings come out in the order of the line's parameter, not of the segments.
  hits = line_polyline_intersections({12, 5}, {-1, -1}, poly);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_NEAR(hits[0].x, 10, 1e-12);
  EXPECT_NEAR(hits[0].y, 3, 1e-12);
  EXPECT_NEAR(hits[1].x, 7, 1e-12);
  EXPECT_NEAR(hits[1].y, 0, 1e-12);
  EXPECT_TRUE(line_polyline_intersections({0, 20}, {1, 0}, poly).empty());
}

TEST(MaskSynth, EllipseFitAndIntersections) {
  // Points of an ellipse centred at (30, 40), semi-axes 50 and 20, rotated by 30 degrees.
  const double c = std::cos(kPi / 6), s = std::sin(kPi / 6);
  std::vector<Point2> pts;
  for (int k = 0; k < 9; ++k) {  // an arc, as the jaw is
    const double t = kPi * (0.1 + 0.1 * k);
    const double u = 50 * std::cos(t), v = 20 * std::sin(t);
    pts.push_back({30 + c * u - s * v, 40 + s * u + c * v});
  }
  const Conic q = fit_ellipse(pts);
  ASSERT_TRUE(q.ok);
  // The major axis through the centre meets the ellipse 50 either side of it.
  const auto hits = line_conic_intersections({30, 40}, {c, s}, q);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_NEAR(hits[0].x, 30 - 50 * c, 1e-6);
  EXPECT_NEAR(hits[0].y, 40 - 50 * s, 1e-6);
  EXPECT_NEAR(hits[1].x, 30 + 50 * c, 1e-6);
  EXPECT_NEAR(hits[1].y, 40 + 50 * s, 1e-6);
  EXPECT_TRUE(line_conic_intersections({30, 200}, {1, 0}, q).empty());
  EXPECT_FALSE(fit_ellipse({{0, 0}, {1, 1}, {2, 0}, {3, 1}}).ok);  // too few points
}

// ---- anchors and the turn rule -----------------------------------------------------------

TEST(MaskSynth, AnchorsOnSymmetricFace) {
  const Landmarks lm = synthetic_face();
  // The face really is symmetric: mirroring (about x = 128 in a 257-wide image) maps it onto
  // itself, which also checks the mirror table.
  const Landmarks m = mirror_landmarks(lm, 257);
  for (int i = 0; i < 68; ++i) {
    EXPECT_NEAR(m[i].x, lm[i].x, 1e-9) << i;
    EXPECT_NEAR(m[i].y, lm[i].y, 1e-9) << i;
  }
  const FaceAnchors fa = face_anchors(lm);
  EXPECT_FALSE(fa.used_ellipse);
  EXPECT_NEAR(fa.turn_deg, 0, 1e-9);
  // b: halfway along the bridge 27 (y 100) -> 30 (y 140).
  EXPECT_NEAR(fa.b.x, 128, 1e-9);
  EXPECT_NEAR(fa.b.y, 120, 1e-9);
  // a, c: one bridge length (40) below the eye line, on the jaw, mirror images.
  EXPECT_NEAR(fa.a.y, 140, 1e-9);
  EXPECT_NEAR(fa.c.y, 140, 1e-9);
  EXPECT_NEAR(fa.a.x + fa.c.x, 256, 1e-9);
  // The jaw chord between points 1 and 2 lies just inside the arc at x = 128 -+ 76.3.
  EXPECT_NEAR(fa.a.x, 128 - 80 * std::sqrt(1 - 0.09), 1.0);
  EXPECT_LT(fa.a.x, fa.b.x);
  // d, f: at the height of the lowest lower-lip point (57).
  EXPECT_NEAR(fa.d.y, 192, 1e-9);
  EXPECT_NEAR(fa.f.y, 192, 1e-9);
  EXPECT_NEAR(fa.d.x + fa.f.x, 256, 1e-9);
  EXPECT_LT(fa.d.x, lm[48].x);
  // e: the chin, below the lower lip, here exactly jaw point 8.
  EXPECT_NEAR(fa.e.x, 128, 1e-9);
  EXPECT_NEAR(fa.e.y, 210, 1e-9);
  EXPECT_GT(fa.e.y, lm[57].y);
  // Template order a, b, c, f, e, d.
  const auto order = anchors_in_template_order(fa);
  EXPECT_EQ(order[3].x, fa.f.x);
  EXPECT_EQ(order[5].x, fa.d.x);
}

TEST(MaskSynth, AnchorsFollowRotationAndScale) {
  // The construction uses the face's own axes, so anchors move with the face.
  const FaceAnchors ref = face_anchors(synthetic_face());
  const Landmarks lm = transformed(synthetic_face(), 25, 1.3, {7, -5});
  const FaceAnchors fa = face_anchors(lm);
  const double c = std::cos(25 * kPi / 180), s = std::sin(25 * kPi / 180);
  auto move = [&](Point2 p) {
    return Point2{128 + 1.3 * (c * (p.x - 128) - s * (p.y - 128)) + 7,
                  128 + 1.3 * (s * (p.x - 128) + c * (p.y - 128)) - 5};
  };
  const Point2 pairs[6][2] = {{fa.a, move(ref.a)}, {fa.b, move(ref.b)}, {fa.c, move(ref.c)},
                              {fa.d, move(ref.d)}, {fa.e, move(ref.e)}, {fa.f, move(ref.f)}};
  for (auto& p : pairs) {
    EXPECT_NEAR(p[0].x, p[1].x, 1e-6);
    EXPECT_NEAR(p[0].y, p[1].y, 1e-6);
  }
  EXPECT_NEAR(fa.turn_deg, 0, 1e-9);
}

TEST(MaskSynth, EllipseFallbackWhenTheJawIsShort) {
  // Jaw points only on the lower part of the ellipse (point 0 at y = 160, below the a/c line
  // at 140): the line misses the contour and the fitted ellipse supplies a and c.
  Landmarks lm = synthetic_face();
  for (int i = 0; i <= 16; ++i) {
    const double th = kPi * (5.0 / 6) - i * (kPi * 4.0 / 6) / 16;
    lm[i] = {128 + 80 * std::cos(th), 110 + 100 * std::sin(th)};
  }
  const FaceAnchors fa = face_anchors(lm);
  EXPECT_TRUE(fa.used_ellipse);
  EXPECT_NEAR(fa.a.y, 140, 1e-9);
  EXPECT_NEAR(fa.a.x, 128 - 80 * std::sqrt(1 - 0.09), 1e-6);
  EXPECT_NEAR(fa.c.x, 128 + 80 * std::sqrt(1 - 0.09), 1e-6);
}

TEST(MaskSynth, TurnChoiceIsMirrored) {
  EXPECT_EQ(choose_view(13.5), MaskView::Left);
  EXPECT_EQ(choose_view(-13.5), MaskView::Right);
  EXPECT_EQ(choose_view(12.9), MaskView::Front);
  EXPECT_EQ(choose_view(-12.9), MaskView::Front);
  const Landmarks left = turned_left_face();
  const FaceAnchors fl = face_anchors(left);
  EXPECT_NEAR(fl.turn_deg, std::atan(12.0 / 40) * 180 / kPi, 1e-9);  // 16.7 degrees
  EXPECT_EQ(choose_view(fl.turn_deg), MaskView::Left);
  const FaceAnchors fr = face_anchors(mirror_landmarks(left, 256));
  EXPECT_NEAR(fr.turn_deg, -fl.turn_deg, 1e-9);
  EXPECT_EQ(choose_view(fr.turn_deg), MaskView::Right);
  // A roll of the whole head does not change the turn.
  EXPECT_NEAR(face_anchors(transformed(left, 30, 1, {0, 0})).turn_deg, fl.turn_deg, 1e-9);
}

TEST(MaskSynth, TurnedFacesPickTheMatchingTemplate) {
  REQUIRE_SHARED_MASKS(dir);
  MaskSynthesizer ms(dir);
  const Image face = grey_face(150);
  EXPECT_EQ(ms.apply(face, synthetic_face(), {}).template_name, "surgical");
  EXPECT_EQ(ms.apply(face, turned_left_face(), {}).template_name, "surgical_left");
  EXPECT_EQ(ms.apply(face, mirror_landmarks(turned_left_face(), 256), {}).template_name,
            "surgical_right");
  MaskOptions cloth;
  cloth.type = MaskType::Cloth;
  EXPECT_EQ(ms.apply(face, turned_left_face(), cloth).template_name, "cloth_left");
  // The _left template has its nose bridge near its left edge, as a face turned left shows.
  auto t = ms.template_for(MaskType::Surgical, MaskView::Left);
  EXPECT_LT(t->anchors[1].x - t->anchors[0].x, 0.3 * (t->anchors[2].x - t->anchors[0].x));
}

TEST(MaskSynth, RealMirroredFacesPickMirroredTemplates) {
  REQUIRE_SHARED_MASKS(dir);
  const std::string faces = shared_dir() + "/data/faces/ffhq256";
  if (!std::filesystem::exists(faces)) GTEST_SKIP() << "no " << faces;
  MaskSynthesizer ms(dir);
  const auto files = list_images(faces);
  // dlib's landmarks are not exactly mirror-symmetric, so the two angles differ by a few
  // degrees (up to ~15 on some faces); the rule is compared only where it is clear-cut.
  int turned = 0;
  for (size_t i = 0; i < files.size() && i < 30; ++i) {
    const Image img = read_image(files[i]);
    Landmarks lm, lm_m;
    if (!landmarks_of(img, lm) || !landmarks_of(mirrored(img), lm_m)) continue;
    const double turn = face_anchors(lm).turn_deg, turn_m = face_anchors(lm_m).turn_deg;
    if (std::abs(turn) > 8) {
      EXPECT_LT(turn * turn_m, 0) << files[i] << ": " << turn << " vs " << turn_m;
    }
    if (std::abs(turn) < kTurnThresholdDeg + 4) continue;
    ++turned;
    const std::string name = ms.apply(img, lm, {}).template_name;
    const std::string name_m = ms.apply(mirrored(img), lm_m, {}).template_name;
    EXPECT_EQ(name, turn > 0 ? "surgical_left" : "surgical_right") << files[i];
    EXPECT_EQ(name_m, turn > 0 ? "surgical_right" : "surgical_left")
        << files[i] << ": " << turn << " vs " << turn_m;
  }
  EXPECT_GE(turned, 1) << "no clearly turned face among the first 30";
}

// ---- templates, anchors.tsv, fallback ---------------------------------------------------

TEST(MaskSynth, SharedTemplatesAndTextures) {
  REQUIRE_SHARED_MASKS(dir);
  MaskSynthesizer ms(dir);
  EXPECT_FALSE(ms.procedural());
  EXPECT_NE(ms.source_description().find("21 mask templates"), std::string::npos)
      << ms.source_description();
  // surgical_blue.png (620x518) is listed with the anchors of the 594x496 surgical.png.
  auto plain = ms.template_for(MaskType::Surgical, MaskView::Front);
  auto blue = ms.template_for(MaskType::SurgicalBlue, MaskView::Front);
  auto blue_left = ms.template_for(MaskType::SurgicalBlue, MaskView::Left);
  EXPECT_EQ(plain->anchors[0].x, 21);
  EXPECT_NEAR(blue->anchors[0].x, 21.0 * 620 / 594, 1e-12);
  EXPECT_NEAR(blue->anchors[4].y, 470.0 * 518 / 496, 1e-12);
  EXPECT_EQ(blue_left->anchors[0].x, 39);  // same size as surgical_left.png: unchanged
  EXPECT_EQ(blue->levels[0].width, 620);
  // N95_right lists its keys in another order; anchors.tsv carries them by name.
  auto n95r = ms.template_for(MaskType::N95, MaskView::Right);
  EXPECT_EQ(n95r->anchors[0].x, 12);
  EXPECT_EQ(n95r->anchors[3].x, -4);
  const auto tex = ms.texture_paths();
  EXPECT_EQ(tex.size(), 27u);
  EXPECT_TRUE(std::is_sorted(tex.begin(), tex.end()));
}

void write_template_dir(const TempDir& tmp, const std::string& anchors) {
  std::filesystem::create_directories(tmp / "templates");
  Image t(40, 30, 4, 0);
  for (int y = 5; y < 25; ++y)
    for (int x = 2; x < 38; ++x) {
      t.at(x, y, 0) = 200;
      t.at(x, y, 1) = 210;
      t.at(x, y, 2) = 220;
      t.at(x, y, 3) = 255;
    }
  write_png(tmp / "templates/surgical.png", t);
  if (!anchors.empty()) std::ofstream(tmp / "anchors.tsv") << anchors;
}

TEST(MaskSynth, AnchorsFileParsedByColumnName) {
  TempDir tmp;
  // Columns in a different order than the shared file, a trailing CR, a blank line.
  write_template_dir(tmp,
                     "c_x\tc_y\ttemplate\ta_x\ta_y\tb_x\tb_y\td_x\td_y\te_x\te_y\tf_x\tf_y\r\n"
                     "38\t8\tsurgical.png\t2\t8\t20\t5\t2\t22\t20\t25\t38\t22.5\r\n\n");
  MaskSynthesizer ms(tmp.str());
  auto t = ms.template_for(MaskType::Surgical, MaskView::Left);  // no _left: the frontal one
  EXPECT_EQ(t->name, "surgical");
  EXPECT_EQ(t->anchors[0].x, 2);
  EXPECT_EQ(t->anchors[2].x, 38);
  EXPECT_EQ(t->anchors[5].y, 22.5);
  const MaskedFace m = ms.apply(grey_face(120), synthetic_face(), {});
  EXPECT_EQ(m.template_name, "surgical");
  // A type missing from the file is an error naming it.
  MaskOptions gas;
  gas.type = MaskType::Gas;
  const std::string err = error_of([&] { ms.apply(grey_face(120), synthetic_face(), gas); });
  EXPECT_NE(err.find("no template 'gas'"), std::string::npos) << err;
}

TEST(MaskSynth, AnchorsFileErrorsNameFileAndLine) {
  const std::string header =
      "template\ta_x\ta_y\tb_x\tb_y\tc_x\tc_y\td_x\td_y\te_x\te_y\tf_x\tf_y\n";
  struct Case {
    std::string text, expect;
  };
  const Case cases[] = {
      {"", "cannot open the anchors file"},
      {"template\ta_x\ta_y\tb_x\tc_x\tc_y\td_x\td_y\te_x\te_y\tf_x\tf_"
       "y\nx\t1\t2\t3\t4\t5\t6\t7\t8\t9\t10\t11\n",
       "line 1: no column 'b_y'"},
      {header + "surgical.png\t1\t2\t3\t4\t5\t6\t7\t8\t9\t10\t11\n",
       "line 2: 12 fields, the header has 13"},
      {header + "surgical.png\t1\t2\t3\t4\t5\t6\t7\t8\t9\t10\t11\t12\n" +
           "surgical_left.png\t1\t2\t3\t4\t5\t6\t7\t8\tnine\t10\t11\t12\n",
       "line 3: column 'e_x' holds 'nine', not a number"},
  };
  for (const Case& c : cases) {
    TempDir tmp;
    write_template_dir(tmp, c.text);
    if (c.text.empty()) std::filesystem::remove(tmp / "anchors.tsv");
    const std::string err = error_of([&] { MaskSynthesizer ms(tmp.str()); });
    EXPECT_NE(err.find(tmp / "anchors.tsv"), std::string::npos) << err;
    EXPECT_NE(err.find(c.expect), std::string::npos) << err;
  }
  // A listed template whose PNG is missing: the error names the file.
  TempDir tmp;
  write_template_dir(tmp, header + "surgical.png\t1\t2\t3\t4\t5\t6\t7\t8\t9\t10\t11\t12\n" +
                              "cloth.png\t1\t2\t30\t4\t5\t26\t7\t28\t9\t10\t11\t12\n");
  MaskSynthesizer ms(tmp.str());
  MaskOptions cloth;
  cloth.type = MaskType::Cloth;
  const std::string err = error_of([&] { ms.apply(grey_face(120), synthetic_face(), cloth); });
  EXPECT_NE(err.find("cloth.png"), std::string::npos) << err;
}

TEST(MaskSynth, ProceduralFallback) {
  TempDir tmp;
  std::filesystem::create_directories(tmp / "templates");  // a folder without templates
  for (const std::string& d : {std::string(), tmp.str() + "/missing", tmp.str()}) {
    MaskSynthesizer ms(d);
    EXPECT_TRUE(ms.procedural()) << d;
    EXPECT_NE(ms.source_description().find("procedural surgical mask"), std::string::npos);
    EXPECT_TRUE(ms.texture_paths().empty());
  }
  MaskSynthesizer ms("");
  const Image face = grey_face(140);
  for (MaskType t : all_mask_types()) {
    MaskOptions o;
    o.type = t;
    const MaskedFace m = ms.apply(face, turned_left_face(), o);
    EXPECT_EQ(m.template_name, "procedural_" + mask_type_name(t) + "_left");
    long covered = 0;
    for (uint8_t v : m.mask.pixels) covered += v == 255;
    EXPECT_GT(covered, 8000) << mask_type_name(t);
  }
  EXPECT_EQ(ms.apply(face, synthetic_face(), {}).template_name, "procedural_surgical");
  EXPECT_EQ(ms.apply(face, mirror_landmarks(turned_left_face(), 256), {}).template_name,
            "procedural_surgical_right");
  // The turned variants put the nose peak near the side the head turns to.
  const MaskTemplate left = procedural_template(MaskType::Surgical, MaskView::Left);
  const MaskTemplate right = procedural_template(MaskType::Surgical, MaskView::Right);
  EXPECT_LT(left.anchors[1].x, 0.3 * left.levels[0].width);
  EXPECT_GT(right.anchors[1].x, 0.7 * right.levels[0].width);
  EXPECT_EQ(left.anchors[1].y, right.anchors[1].y);
  // The drawn template: opaque just inside its anchors' outline, transparent outside it.
  const MaskTemplate t = procedural_template(MaskType::Surgical);
  const Image& img = t.levels[0];
  EXPECT_EQ(img.at(static_cast<int>(t.anchors[1].x), static_cast<int>(t.anchors[1].y) + 3, 3),
            255);  // below b
  EXPECT_EQ(img.at(static_cast<int>(t.anchors[1].x), static_cast<int>(t.anchors[1].y) - 3, 3),
            0);  // above b
  EXPECT_EQ(img.at(static_cast<int>(t.anchors[0].x) + 3, static_cast<int>(t.anchors[0].y), 3),
            255);  // right of a
  EXPECT_EQ(img.at(static_cast<int>(t.anchors[0].x) - 3, static_cast<int>(t.anchors[0].y), 3), 0);
  EXPECT_EQ(img.at(static_cast<int>(t.anchors[4].x), static_cast<int>(t.anchors[4].y) - 3, 3),
            255);  // above e
  // Light blue body with visible pleats: blue is the largest channel, rows differ in value.
  const int cx = static_cast<int>(t.anchors[1].x);
  int vmin = 255, vmax = 0;
  for (int y = 150; y < 330; ++y) {
    EXPECT_GT(img.at(cx, y, 2), img.at(cx, y, 0));
    vmin = std::min<int>(vmin, img.at(cx, y, 2));
    vmax = std::max<int>(vmax, img.at(cx, y, 2));
  }
  EXPECT_GT(vmax - vmin, 25);
}

// ---- compositing and colour ---------------------------------------------------------------

// Changed pixels that the binary mask does not mark.
long changes_outside_mask(const Image& before, const MaskedFace& m) {
  long n = 0;
  for (int y = 0; y < before.height; ++y)
    for (int x = 0; x < before.width; ++x) {
      if (m.mask.at(x, y, 0)) continue;
      for (int c = 0; c < 3; ++c) n += before.at(x, y, c) != m.masked.at(x, y, c);
    }
  return n;
}

void mean_in_mask(const MaskedFace& m, double out[3]) {
  long n = 0;
  out[0] = out[1] = out[2] = 0;
  for (int y = 0; y < m.mask.height; ++y)
    for (int x = 0; x < m.mask.width; ++x) {
      if (!m.mask.at(x, y, 0)) continue;
      for (int c = 0; c < 3; ++c) out[c] += m.masked.at(x, y, c);
      ++n;
    }
  for (int c = 0; c < 3; ++c) out[c] /= std::max(1L, n);
}

TEST(MaskSynth, CompositeTouchesOnlyTheMask) {
  MaskSynthesizer ms("");
  Image face(256, 256, 3);
  for (size_t i = 0; i < face.pixels.size(); ++i)
    face.pixels[i] = static_cast<uint8_t>((i * 37) % 251);
  const MaskedFace m = ms.apply(face, synthetic_face(), {});
  ASSERT_EQ(m.masked.channels, 3);
  ASSERT_EQ(m.mask.channels, 1);
  ASSERT_EQ(m.mask.width, 256);
  EXPECT_EQ(changes_outside_mask(face, m), 0);
  // Inside the mask the face is replaced: the eyes stay, the nose tip and mouth go.
  EXPECT_EQ(m.mask.at(128, 155, 0), 255);  // nose point 33
  EXPECT_EQ(m.mask.at(128, 180, 0), 255);  // mouth
  EXPECT_EQ(m.mask.at(95, 100, 0), 0);     // left eye centre
  for (uint8_t v : m.mask.pixels) ASSERT_TRUE(v == 0 || v == 255);
}

TEST(MaskSynth, BrightnessFollowsTheFace) {
  MaskSynthesizer ms("");
  double dark[3], bright[3];
  mean_in_mask(ms.apply(grey_face(50), synthetic_face(), {}), dark);
  mean_in_mask(ms.apply(grey_face(210), synthetic_face(), {}), bright);
  for (int c = 0; c < 3; ++c) EXPECT_LT(dark[c] + 40, bright[c]) << c;
  // Scaling the value keeps the hue: channel ratios agree.
  EXPECT_NEAR(dark[2] / dark[0], bright[2] / bright[0], 0.05 * bright[2] / bright[0]);
}

TEST(MaskSynth, TintAndTexture) {
  MaskSynthesizer ms("");
  const Image face = grey_face(150);
  const Landmarks lm = synthetic_face();
  const MaskedFace plain = ms.apply(face, lm, {});
  MaskOptions red;
  red.tint = true;
  red.tint_rgb = {220, 20, 20};
  red.tint_strength = 1.0;
  double mean[3];
  mean_in_mask(ms.apply(face, lm, red), mean);
  EXPECT_GT(mean[0], mean[1] + 60);
  EXPECT_GT(mean[0], mean[2] + 60);
  red.tint_strength = 0.0;
  EXPECT_TRUE(same_bytes(ms.apply(face, lm, red).masked, plain.masked));

  TempDir tmp;
  Image checker(64, 64, 3);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x)
      for (int c = 0; c < 3; ++c) checker.at(x, y, c) = ((x / 8 + y / 8) % 2) ? 240 : 20;
  write_png(tmp / "checker.png", checker);
  write_png(tmp / "clear.png", Image(16, 16, 4, 0));  // fully transparent texture
  auto spread = [](const MaskedFace& m) {
    double s = 0, s2 = 0;
    long n = 0;
    for (int y = 0; y < m.mask.height; ++y)
      for (int x = 0; x < m.mask.width; ++x)
        if (m.mask.at(x, y, 0)) {
          const double v = m.masked.at(x, y, 1);
          s += v;
          s2 += v * v;
          ++n;
        }
    return std::sqrt(s2 / n - (s / n) * (s / n));
  };
  MaskOptions tex;
  tex.texture_path = tmp / "checker.png";
  tex.texture_strength = 1.0;
  const MaskedFace textured = ms.apply(face, lm, tex);
  EXPECT_GT(spread(textured), 2 * spread(plain) + 20);
  tex.texture_strength = 0.0;
  EXPECT_TRUE(same_bytes(ms.apply(face, lm, tex).masked, plain.masked));
  tex.texture_path = tmp / "clear.png";
  tex.texture_strength = 1.0;
  EXPECT_TRUE(same_bytes(ms.apply(face, lm, tex).masked, plain.masked));
  tex.texture_path = tmp / "missing.png";
  EXPECT_NE(error_of([&] { ms.apply(face, lm, tex); }).find("missing.png"), std::string::npos);
  MaskOptions bad;
  bad.tint_strength = 1.5;
  EXPECT_NE(error_of([&] { ms.apply(face, lm, bad); }).find("[0, 1]"), std::string::npos);
}

// ---- robustness and determinism --------------------------------------------------------

TEST(MaskSynth, ExtremeLandmarksNeverCrash) {
  std::vector<std::unique_ptr<MaskSynthesizer>> synths;
  synths.push_back(std::make_unique<MaskSynthesizer>(""));
  if (!shared_masks_dir().empty())
    synths.push_back(std::make_unique<MaskSynthesizer>(shared_masks_dir()));
  const Image face = grey_face(128, 200, 160);
  const std::vector<Landmarks> cases = {
      transformed(synthetic_face(), 0, 1, {-110, 0}),     // half the face off the left edge
      transformed(synthetic_face(), 0, 1, {0, 90}),       // chin far below the bottom edge
      transformed(synthetic_face(), 0, 1, {-900, -900}),  // entirely outside
      transformed(synthetic_face(), 80, 1, {0, 0}),       // rolled 80 degrees
      transformed(synthetic_face(), 180, 1, {0, 0}),      // upside down
      transformed(synthetic_face(), 0, 0.03, {0, 0}),     // a face 2 px wide
      transformed(synthetic_face(), 0, 12, {0, 0}),       // a face much larger than the image
      transformed(turned_left_face(), -35, 0.7, {-40, 30}),
  };
  std::vector<MaskType> types = all_mask_types();
  types.push_back(MaskType::Procedural);
  for (auto& ms : synths)
    for (size_t i = 0; i < cases.size(); ++i)
      for (MaskType t : types) {
        MaskOptions o;
        o.type = t;
        o.procedural_seed = i;
        MaskedFace m;
        ASSERT_NO_THROW(m = ms->apply(face, cases[i], o))
            << "case " << i << " " << mask_type_name(t);
        EXPECT_EQ(m.masked.width, 200);
        EXPECT_EQ(m.mask.height, 160);
        EXPECT_EQ(changes_outside_mask(face, m), 0) << "case " << i;
      }
  // Entirely outside: nothing is covered.
  const MaskedFace off = synths[0]->apply(face, cases[2], {});
  for (uint8_t v : off.mask.pixels) ASSERT_EQ(v, 0);
  // Degenerate and invalid input raise clear errors instead.
  Landmarks same;
  for (auto& p : same) p = {50, 50};
  EXPECT_NE(error_of([&] { synths[0]->apply(face, same, {}); }).find("cannot place template"),
            std::string::npos);
  Landmarks nan_lm = synthetic_face();
  nan_lm[30].y = std::nan("");
  EXPECT_NE(error_of([&] { synths[0]->apply(face, nan_lm, {}); }).find("not finite"),
            std::string::npos);
  EXPECT_NE(
      error_of([&] { synths[0]->apply(Image(10, 10, 4), synthetic_face(), {}); }).find("10x10x4"),
      std::string::npos);
}

TEST(MaskSynth, Deterministic) {
  const std::string dir = shared_masks_dir();
  MaskSynthesizer a(dir), b(dir);
  Image face(256, 256, 3);
  for (size_t i = 0; i < face.pixels.size(); ++i)
    face.pixels[i] = static_cast<uint8_t>((i * 13) % 253);
  const Landmarks lm = transformed(turned_left_face(), 7, 0.9, {3, 5});
  MaskOptions o;
  o.type = MaskType::KN95;
  o.tint = true;
  o.tint_rgb = {30, 90, 200};
  const MaskedFace first = a.apply(face, lm, o);
  const MaskedFace again = a.apply(face, lm, o);
  const MaskedFace other = b.apply(face, lm, o);
  EXPECT_TRUE(same_bytes(first.masked, again.masked));
  EXPECT_TRUE(same_bytes(first.mask, again.mask));
  EXPECT_TRUE(same_bytes(first.masked, other.masked));
  // Concurrent first use of a fresh synthesizer (lazy loading under contention).
  MaskSynthesizer c(dir);
  std::vector<MaskedFace> results(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&, i] { results[i] = c.apply(face, lm, o); });
  for (auto& t : threads) t.join();
  for (const MaskedFace& r : results) {
    EXPECT_TRUE(same_bytes(r.masked, first.masked));
    EXPECT_TRUE(same_bytes(r.mask, first.mask));
  }
}

// ---- random masks (MaskType::Procedural) ----------------------------------------------------

MaskOptions random_mask(uint64_t seed) {
  MaskOptions o;
  o.type = MaskType::Procedural;
  o.procedural_seed = seed;
  return o;
}

long count_covered(const MaskedFace& m) {
  long n = 0;
  for (uint8_t v : m.mask.pixels) n += v == 255;
  return n;
}

TEST(MaskSynth, ProceduralTypeIsNamedButNotInAll) {
  EXPECT_EQ(mask_type_name(MaskType::Procedural), "procedural");
  EXPECT_EQ(parse_mask_type("procedural"), MaskType::Procedural);
  const auto& all = all_mask_types();
  EXPECT_EQ(std::find(all.begin(), all.end(), MaskType::Procedural), all.end());
  const std::string err = error_of([] { parse_mask_type("random"); });
  EXPECT_NE(err.find("surgical, surgical_blue, surgical_green, N95, KN95, cloth, gas, procedural"),
            std::string::npos)
      << err;
  MaskSynthesizer ms("");
  EXPECT_NE(error_of([&] {
              ms.template_for(MaskType::Procedural, MaskView::Front);
            }).find("random_mask_template"),
            std::string::npos);
}

TEST(MaskSynth, RandomMaskSameSeedSameBytes) {
  std::vector<std::unique_ptr<MaskSynthesizer>> synths;
  synths.push_back(std::make_unique<MaskSynthesizer>(""));  // the no-templates fallback
  if (!shared_masks_dir().empty())
    synths.push_back(std::make_unique<MaskSynthesizer>(shared_masks_dir()));
  Image face(256, 256, 3);
  for (size_t i = 0; i < face.pixels.size(); ++i)
    face.pixels[i] = static_cast<uint8_t>((i * 29) % 241);
  for (auto& ms : synths) {
    for (uint64_t seed : {0ull, 7ull, 123456789ull}) {
      const MaskedFace a = ms->apply(face, synthetic_face(), random_mask(seed));
      const MaskedFace b = ms->apply(face, synthetic_face(), random_mask(seed));
      EXPECT_TRUE(same_bytes(a.masked, b.masked)) << seed;
      EXPECT_TRUE(same_bytes(a.mask, b.mask)) << seed;
      EXPECT_EQ(a.template_name, "procedural");
      EXPECT_EQ(changes_outside_mask(face, a), 0) << seed;
      EXPECT_FALSE(
          same_bytes(a.masked, ms->apply(face, synthetic_face(), random_mask(seed + 1)).masked));
    }
    // The face's view picks the turned drawing.
    EXPECT_EQ(ms->apply(face, turned_left_face(), random_mask(3)).template_name, "procedural_left");
    EXPECT_EQ(
        ms->apply(face, mirror_landmarks(turned_left_face(), 256), random_mask(3)).template_name,
        "procedural_right");
  }
  // The same synthesizer from several threads at once.
  std::vector<MaskedFace> results(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back(
        [&, i] { results[i] = synths[0]->apply(face, synthetic_face(), random_mask(11)); });
  for (auto& t : threads) t.join();
  for (const MaskedFace& r : results) EXPECT_TRUE(same_bytes(r.masked, results[0].masked));
  // The template itself.
  const MaskTemplate t1 = random_mask_template(42, MaskView::Left, nullptr, 1.0, 0.5);
  const MaskTemplate t2 = random_mask_template(42, MaskView::Left, nullptr, 1.0, 0.5);
  ASSERT_EQ(t1.levels.size(), t2.levels.size());
  for (size_t k = 0; k < t1.levels.size(); ++k) EXPECT_TRUE(same_bytes(t1.levels[k], t2.levels[k]));
  EXPECT_EQ(t1.name, "procedural_left");
  const auto anchors = random_mask_anchors(MaskView::Left, 0.5);
  for (int k = 0; k < 6; ++k) EXPECT_EQ(t1.anchors[k].x, anchors[k].x);
}

TEST(MaskSynth, RandomMasksVaryInColourShapeAndStraps) {
  MaskSynthesizer ms("");
  const Image face = grey_face(128);
  const Landmarks lm = synthetic_face();
  const FaceAnchors fa = face_anchors(lm);
  std::set<long> counts;
  std::set<int> colours;
  double darkest = 255, lightest = 0;
  int strapped = 0;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    const MaskedFace m = ms.apply(face, lm, random_mask(seed));
    ASSERT_EQ(changes_outside_mask(face, m), 0) << seed;
    counts.insert(count_covered(m));
    double mean[3];
    mean_in_mask(m, mean);
    const double v = (mean[0] + mean[1] + mean[2]) / 3;
    darkest = std::min(darkest, v), lightest = std::max(lightest, v);
    colours.insert(static_cast<int>(mean[0] / 8) * 1024 + static_cast<int>(mean[1] / 8) * 32 +
                   static_cast<int>(mean[2] / 8));
    // Straps: covered pixels beside the face above the nose bridge's middle, where the body
    // never reaches.
    bool strap = false;
    for (int y = 0; y < static_cast<int>(fa.b.y) - 3; ++y)
      for (int x = 0; x < 256; ++x)
        if (m.mask.at(x, y, 0) && (x < fa.a.x - 3 || x > fa.c.x + 3)) strap = true;
    strapped += strap;
  }
  std::printf(
      "[ MaskSynth ] 50 random masks: %zu pixel counts, %zu colours, mean value %.0f..%.0f, "
      "%d with straps\n",
      counts.size(), colours.size(), darkest, lightest, strapped);
  EXPECT_GE(counts.size(), 40u);
  EXPECT_GT(*counts.rbegin(), 1.5 * *counts.begin());  // small and large masks
  EXPECT_GE(colours.size(), 35u);
  EXPECT_LT(darkest, 40);
  EXPECT_GT(lightest, 215);
  EXPECT_GE(strapped, 8);
  EXPECT_LE(strapped, 42);
}

TEST(MaskSynth, RandomMaskBrightnessAndFabric) {
  MaskSynthesizer ms("");
  const Landmarks lm = synthetic_face();
  // Where the seed skips the brightness match, a dark and a bright face get the same mask.
  int skipped = 0, partial = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const double k = random_mask_brightness_strength(seed);
    EXPECT_GE(k, 0);
    EXPECT_LE(k, 0.5);
    const MaskedFace dark = ms.apply(grey_face(40), lm, random_mask(seed));
    const MaskedFace bright = ms.apply(grey_face(220), lm, random_mask(seed));
    ASSERT_TRUE(same_bytes(dark.mask, bright.mask));
    // Compared inside the mask, away from its anti-aliased edge (which blends in the face;
    // a few such pixels remain where a strap joins the body).
    long differ = 0, compared = 0;
    for (int y = 2; y < 254; ++y)
      for (int x = 2; x < 254; ++x) {
        bool interior = true;
        for (int dy = -2; dy <= 2; ++dy)
          for (int dx = -2; dx <= 2; ++dx) interior = interior && dark.mask.at(x + dx, y + dy, 0);
        if (!interior) continue;
        ++compared;
        for (int c = 0; c < 3; ++c) differ += dark.masked.at(x, y, c) != bright.masked.at(x, y, c);
      }
    ASSERT_GT(compared, 3000) << seed;
    if (k == 0) {
      ++skipped;
      EXPECT_LT(differ, compared / 100) << seed;
    } else {
      ++partial;
      EXPECT_GT(differ, compared / 2) << seed;
    }
  }
  EXPECT_GE(skipped, 3);
  EXPECT_GE(partial, 3);
  // A fabric replaces the plain look: a checker shows as a wide spread of values.
  Image checker(64, 64, 4, 255);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x)
      for (int c = 0; c < 3; ++c) checker.at(x, y, c) = ((x / 8 + y / 8) % 2) ? 240 : 20;
  TempDir tmp;
  write_png(tmp / "checker.png", checker);
  MaskOptions o = random_mask(5);
  o.texture_path = tmp / "checker.png";
  o.texture_strength = 1.0;
  const MaskedFace m = ms.apply(grey_face(128), lm, o);
  long dark = 0, light = 0;
  for (int y = 0; y < 256; ++y)
    for (int x = 0; x < 256; ++x)
      if (m.mask.at(x, y, 0)) {
        const int v = m.masked.at(x, y, 1);
        dark += v<60, light += v> 170;
      }
  EXPECT_GT(dark, 300);
  EXPECT_GT(light, 300);
  const std::vector<Image> one_level = {checker};
  const MaskTemplate a = random_mask_template(5, MaskView::Front, &one_level, 1.0, 0.4);
  const MaskTemplate b = random_mask_template(5, MaskView::Front, nullptr, 1.0, 0.4);
  EXPECT_FALSE(same_bytes(a.levels[0], b.levels[0]));
  EXPECT_NE(error_of([] {
              random_mask_template(1, MaskView::Front, nullptr, 1.0, 0);
            }).find("resolution"),
            std::string::npos);
}

// ---- real faces ---------------------------------------------------------------------------

TEST(MaskSynth, AllTypesOnARealFace) {
  REQUIRE_SHARED_MASKS(dir);
  const std::string path = shared_dir() + "/data/faces/ffhq256/00001.jpg";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no " << path;
  const Image img = read_image(path);
  Landmarks lm;
  ASSERT_TRUE(landmarks_of(img, lm));
  MaskSynthesizer ms(dir);
  for (MaskType t : all_mask_types()) {
    MaskOptions o;
    o.type = t;
    const MaskedFace m = ms.apply(img, lm, o);
    EXPECT_EQ(m.template_name.rfind(mask_type_name(t), 0), 0u) << m.template_name;
    EXPECT_EQ(m.mask.at(static_cast<int>(lm[62].x), static_cast<int>(lm[62].y), 0), 255)
        << mask_type_name(t);
    EXPECT_EQ(changes_outside_mask(img, m), 0);
  }
  MaskOptions textured;
  textured.type = MaskType::Cloth;
  textured.texture_path = ms.texture_paths().front();
  EXPECT_NO_THROW(ms.apply(img, lm, textured));
}

TEST(MaskSynth, SurgicalMaskCoversNoseAndMouthNotEyesOnFfhq) {
  REQUIRE_SHARED_MASKS(dir);
  const std::string faces = shared_dir() + "/data/faces/ffhq256";
  if (!std::filesystem::exists(faces)) GTEST_SKIP() << "no " << faces;
  // The file templates and the procedural fallback must both place the mask right.
  MaskSynthesizer from_files(dir), procedural("");
  const auto files = list_images(faces);
  int detected = 0, good_files = 0, good_procedural = 0;
  double apply_ms = 0;
  std::string failures;
  for (size_t i = 0; i < files.size() && i < 100; ++i) {
    const Image img = read_image(files[i]);
    Landmarks lm;
    if (!landmarks_of(img, lm)) continue;
    ++detected;
    auto placed_right = [&](const MaskedFace& m) {
      auto covered = [&](int k) {
        const long x = std::lround(lm[k].x), y = std::lround(lm[k].y);
        return x >= 0 && y >= 0 && x < img.width && y < img.height && m.mask.at(x, y, 0) == 255;
      };
      bool ok = covered(33);
      for (int k = 48; k <= 67; ++k) ok = ok && covered(k);
      for (int k = 36; k <= 47; ++k) ok = ok && !covered(k);
      return ok;
    };
    const auto t0 = std::chrono::steady_clock::now();
    const MaskedFace m = from_files.apply(img, lm, {});
    apply_ms +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const bool ok = placed_right(m);
    good_files += ok;
    good_procedural += placed_right(procedural.apply(img, lm, {}));
    if (!ok) failures += " " + std::filesystem::path(files[i]).filename().string();
  }
  std::printf(
      "[ MaskSynth ] of %d faces, correctly covered: %d (templates), %d (procedural); apply() %.2f "
      "ms per "
      "face; failures:%s\n",
      detected, good_files, good_procedural, apply_ms / std::max(1, detected), failures.c_str());
  EXPECT_GE(detected, 90);
  EXPECT_GE(good_files, 0.95 * detected);
  EXPECT_GE(good_procedural, 0.95 * detected);
}

TEST(MaskSynth, RandomMasksCoverNoseAndMouthNotEyesOnFfhq) {
  const std::string faces = shared_dir() + "/data/faces/ffhq256";
  if (shared_dir().empty() || !std::filesystem::exists(faces))
    GTEST_SKIP() << "no shared FFHQ faces (set MASKOFF_SHARED or place the shared folder beside "
                    "the repository)";
  const std::string dir = shared_masks_dir();
  MaskSynthesizer ms(dir);
  const auto textures = ms.texture_paths();
  const auto files = list_images(faces);
  int masks = 0, good = 0, eyes_free = 0;
  std::string failures;
  for (size_t i = 0; i < files.size() && i < 40; ++i) {
    const Image img = read_image(files[i]);
    Landmarks lm;
    if (!landmarks_of(img, lm)) continue;
    auto covered = [&](const MaskedFace& m, Point2 p) {
      const long x = std::lround(p.x), y = std::lround(p.y);
      return x >= 0 && y >= 0 && x < img.width && y < img.height && m.mask.at(x, y, 0) == 255;
    };
    // Just under the nose tip: a third of the way from 33 to the top of the upper lip (51).
    const Point2 under_nose{lm[33].x + 0.33 * (lm[51].x - lm[33].x),
                            lm[33].y + 0.33 * (lm[51].y - lm[33].y)};
    for (uint64_t k = 0; k < 5; ++k) {
      MaskOptions o = random_mask(1000 * i + k);
      if (k == 4 && !textures.empty()) o.texture_path = textures[i % textures.size()];
      const MaskedFace m = ms.apply(img, lm, o);
      ASSERT_EQ(changes_outside_mask(img, m), 0) << files[i];
      ++masks;
      bool ok = covered(m, under_nose), free = true;
      for (int j = 48; j <= 67; ++j) ok = ok && covered(m, lm[j]);
      for (int j = 36; j <= 47; ++j) free = free && !covered(m, lm[j]);
      good += ok;
      eyes_free += free;
      if (!ok || !free)
        failures += " " + std::filesystem::path(files[i]).filename().string() + "/" +
                    std::to_string(k) + (free ? "" : "(eyes)");
    }
  }
  std::printf(
      "[ MaskSynth ] of %d random masks: %d cover the mouth and under the nose, %d leave "
      "the eyes free; failures:%s\n",
      masks, good, eyes_free, failures.c_str());
  EXPECT_GE(masks, 175);
  EXPECT_GE(good, 0.95 * masks);
  EXPECT_EQ(eyes_free, masks);
}

}  // namespace
}  // namespace maskoff::data
