// The dataset pipeline end to end on a handful of dlib example photos (plus deliberately bad
// files): layout, manifest, masks, landmarks, skip accounting, byte-identical reruns, the
// pinned choices of the template types, and random (procedural) masks beside templates.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "data/dataset_builder.h"
#include "data/dataset_writer.h"
#include "tests/data/temp_dir.h"

namespace fs = std::filesystem;

namespace maskoff::data::testing {
namespace {

// Sorted names fix the id order: a_* (3 faces) ... then files that yield nothing.
std::string make_inputs(const TempDir& dir) {
  const std::string in = dir / "in";
  fs::create_directories(in + "/sub");
  fs::copy_file(kDlibExamples + "/johns/John_Simm/000288_00470387.jpg", in + "/a_john.jpg");
  fs::copy_file(kDlibExamples + "/johns/John_Savage/000264_01099001.jpg", in + "/sub/b_john.JPG");
  // Three faces with eye distances of about 31, 27 and 34 px: two kept, one too small.
  fs::copy_file(kDlibExamples + "/faces/2008_001322.jpg", in + "/c_group.jpg");
  write_png(in + "/d_flat.png", Image(200, 200, 3, 128));
  const std::string text = "not an image\n";
  write_bytes(in + "/e_text.jpg", std::vector<uint8_t>(text.begin(), text.end()));
  std::vector<uint8_t> half = read_bytes(kDlibExamples + "/johns/John_Simm/000297_00470170.jpg");
  half.resize(half.size() / 2);
  write_bytes(in + "/f_half.jpg", half);
  write_bytes(in + "/notes.txt",
              std::vector<uint8_t>(text.begin(), text.end()));  // not listed at all
  return in;
}

DatasetOptions options(const std::string& in, const std::string& out, int threads) {
  DatasetOptions o;
  o.inputs = {in};
  o.output = out;
  o.size = 128;  // smaller than the default to keep the test quick
  o.seed = 7;
  o.threads = threads;
  o.contact_rows = 12;
  o.test_fraction = 0.4;
  return o;
}

std::vector<std::string> files_under(const std::string& root) {
  std::vector<std::string> out;
  for (auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), root).string());
  std::sort(out.begin(), out.end());
  return out;
}

void expect_identical_trees(const std::string& a, const std::string& b) {
  std::vector<std::string> fa = files_under(a), fb = files_under(b);
  ASSERT_EQ(fa, fb);
  for (const auto& f : fa)
    EXPECT_TRUE(read_bytes(a + "/" + f) == read_bytes(b + "/" + f)) << f << " differs";
}

int count_lines(const std::string& path) {
  std::ifstream in(path);
  int n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

// A file that cannot be read is listed with the reader's message; the source location of
// the check that refused it is kept apart, in summary.json.
TEST(DatasetTool, SkippedFilesKeepTheReasonAndItsSourceLocationApart) {
  TempDir dir;
  const std::string in = dir / "in", out = dir / "out";
  fs::create_directories(in);
  const std::string text = "not an image\n";
  write_bytes(in + "/text.jpg", std::vector<uint8_t>(text.begin(), text.end()));
  const DatasetSummary s = build_masked_dataset(options(in, out, 1));
  ASSERT_EQ(s.unreadable.size(), 1u);
  const Skipped& u = s.unreadable[0];
  EXPECT_NE(u.reason.find("text.jpg"), std::string::npos) << u.reason;
  EXPECT_EQ(u.reason.find(" ["), std::string::npos) << u.reason;
  EXPECT_NE(u.where.find(".cpp:"), std::string::npos) << u.where;
  std::ifstream sj(out + "/summary.json");
  const std::string json((std::istreambuf_iterator<char>(sj)), std::istreambuf_iterator<char>());
  EXPECT_NE(json.find("\"where\": \"" + u.where + "\""), std::string::npos) << json;
}

TEST(DatasetTool, EndToEndOnExamplePhotos) {
  TempDir dir;
  const std::string in = make_inputs(dir), out = dir / "out";
  DatasetSummary s = build_masked_dataset(options(in, out, 2));

  EXPECT_EQ(s.files, 6);
  EXPECT_EQ(s.faces_written, 4);
  ASSERT_EQ(s.no_face.size(), 1u);
  EXPECT_NE(s.no_face[0].path.find("d_flat.png"), std::string::npos);
  ASSERT_EQ(s.too_small.size(), 1u);
  EXPECT_NE(s.too_small[0].path.find("c_group.jpg"), std::string::npos);
  ASSERT_EQ(s.unreadable.size(), 2u);
  EXPECT_NE(s.unreadable[0].reason.find("e_text.jpg"), std::string::npos);
  EXPECT_NE(s.unreadable[1].reason.find("truncated JPEG"), std::string::npos);
  EXPECT_TRUE(s.failed.empty());
  int64_t typed = 0;
  for (const auto& [name, n] : s.per_mask_type) typed += n;
  EXPECT_EQ(typed, 4);
  EXPECT_EQ(s.train + s.test, 4);

  std::ifstream mf(out + "/manifest.csv");
  std::string header;
  std::getline(mf, header);
  EXPECT_EQ(header, "id,split,source,mask_type,masked,real,mask,landmarks");
  std::vector<ManifestRow> rows = read_manifest(out + "/manifest.csv");
  ASSERT_EQ(rows.size(), 4u);
  // Sorted by full path: "c_group.jpg" < "sub/b_john.JPG".
  const std::vector<std::string> sources = {"a_john.jpg", "c_group.jpg", "c_group.jpg",
                                            "sub/b_john.JPG"};
  for (size_t i = 0; i < rows.size(); ++i) {
    const ManifestRow& r = rows[i];
    EXPECT_EQ(r.id, format_id(static_cast<int64_t>(i)));  // sorted input order
    EXPECT_EQ(r.source, in + "/" + sources[i]);
    EXPECT_TRUE(r.split == "train" || r.split == "test") << r.split;
    EXPECT_EQ(r.split, split_for_id(r.id, 7, 0.4));
    EXPECT_NO_THROW(parse_mask_type(r.mask_type));
    EXPECT_EQ(r.masked, "masked/" + r.id + ".png");
    EXPECT_EQ(r.real, "real/" + r.id + ".png");
    EXPECT_EQ(r.mask, "mask/" + r.id + ".png");
    EXPECT_EQ(r.landmarks, "landmarks/" + r.id + ".txt");

    Image masked = read_image(out + "/" + r.masked), real = read_image(out + "/" + r.real);
    Image mask = read_image_rgba(out + "/" + r.mask);
    ASSERT_EQ(masked.width, 128);
    ASSERT_EQ(real.width, 128);
    ASSERT_EQ(mask.width, 128);
    size_t covered = 0, outside = 0, outside_same = 0;
    for (int y = 0; y < 128; ++y)
      for (int x = 0; x < 128; ++x) {
        const uint8_t m = mask.at(x, y, 0);
        ASSERT_TRUE(m == 0 || m == 255) << "mask value " << int(m);
        if (m) {
          ++covered;
          continue;
        }
        ++outside;
        bool same = true;
        for (int c = 0; c < 3; ++c) same = same && masked.at(x, y, c) == real.at(x, y, c);
        outside_same += same;
      }
    // A mask covers the lower face: a real share of the image, not all of it.
    EXPECT_GT(covered, 128u * 128 / 20) << r.id;
    EXPECT_LT(covered, 128u * 128 / 2) << r.id;
    // Away from the mask the masked image is the real one (edges may be feathered).
    EXPECT_GT(outside_same, outside * 9 / 10) << r.id;

    EXPECT_EQ(count_lines(out + "/" + r.landmarks), 68);
    Landmarks lm = read_landmarks(out + "/" + r.landmarks);
    EXPECT_NEAR(eye_centre_left(lm).y, 0.475 * 128, 5);
    EXPECT_NEAR(eye_centre_right(lm).x - eye_centre_left(lm).x, 32, 5);
  }
  EXPECT_TRUE(fs::exists(out + "/summary.json"));
  Image sheet = read_image(out + "/contact_sheet.png");
  EXPECT_EQ(sheet.width, 4 + 3 * (128 + 4));
  EXPECT_EQ(sheet.height, 4 + 4 * (128 + 4));
  for (const auto& f : files_under(out)) EXPECT_EQ(f.find(".tmp"), std::string::npos) << f;
}

TEST(DatasetTool, RerunsAreByteIdenticalForAnyThreadCount) {
  TempDir dir;
  const std::string in = make_inputs(dir);
  DatasetOptions o = options(in, dir / "one", 1);
  o.textures = true;
  build_masked_dataset(o);
  o.output = dir / "two";
  o.threads = 2;
  build_masked_dataset(o);
  o.output = dir / "again";
  build_masked_dataset(o);
  expect_identical_trees(dir / "one", dir / "two");
  expect_identical_trees(dir / "two", dir / "again");
  // A different seed changes the choices (the mask type of at least one of the faces, or
  // the images): the seed really is used.
  o.output = dir / "other";
  o.seed = 8;
  build_masked_dataset(o);
  bool any_diff = false;
  for (const char* f :
       {"masked/000000.png", "masked/000001.png", "masked/000002.png", "masked/000003.png"})
    any_diff = any_diff || read_bytes(dir / "two/" + f) != read_bytes(dir / "other/" + f);
  EXPECT_TRUE(any_diff);
}

TEST(DatasetTool, AlignedInputsAreResizedAndRedetected) {
  TempDir dir;
  const std::string in = make_inputs(dir), first = dir / "first";
  DatasetOptions o = options(in, first, 2);
  o.size = 160;
  build_masked_dataset(o);
  // Feed the aligned real faces back with --aligned (plus one non-square file).
  const std::string in2 = dir / "in2";
  fs::create_directories(in2);
  for (const auto& f : files_under(first + "/real"))
    fs::copy_file(first + "/real/" + f, in2 + "/" + f);
  write_png(in2 + "/z_wide.png", Image(300, 200, 3, 90));
  DatasetOptions a = options(in2, dir / "second", 2);
  a.aligned = true;
  a.size = 128;
  DatasetSummary s = build_masked_dataset(a);
  EXPECT_EQ(s.faces_written, 4);
  ASSERT_EQ(s.failed.size(), 1u);
  EXPECT_NE(s.failed[0].reason.find("not square"), std::string::npos);
  // The two portraits (ids 0 and 3); the group photo's small faces are upsampled and blurry,
  // where dlib's fit depends on the exact detection box by several pixels.
  for (int i : {0, 3}) {
    const std::string id = format_id(i);
    Landmarks l1 = read_landmarks(first + "/landmarks/" + id + ".txt");
    Landmarks l2 = read_landmarks(dir / "second/landmarks/" + id + ".txt");
    // Same face rescaled 160 -> 128; eye centres average six points each, which steadies
    // the comparison.
    auto rescaled = [](Point2 p) {
      return Point2{(p.x + 0.5) * 0.8 - 0.5, (p.y + 0.5) * 0.8 - 0.5};
    };
    const std::pair<Point2, Point2> pairs[] = {
        {eye_centre_left(l2), rescaled(eye_centre_left(l1))},
        {eye_centre_right(l2), rescaled(eye_centre_right(l1))}};
    for (const auto& [got, want] : pairs) {
      EXPECT_NEAR(got.x, want.x, 2.0) << id;
      EXPECT_NEAR(got.y, want.y, 2.0) << id;
    }
  }
}

TEST(DatasetTool, MaskTypesAreBalancedAndSeeded) {
  const std::vector<MaskType>& all = all_mask_types();
  std::vector<int> count(all.size(), 0);
  for (int64_t i = 0; i < 700; ++i) {
    MaskType t = choose_mask_type(all, 3, i);
    ++count[std::find(all.begin(), all.end(), t) - all.begin()];
    if (i % 7 == 6) {  // after every whole block, all counts equal
      for (int c : count) ASSERT_EQ(c, (i + 1) / 7);
    }
  }
  bool differs = false;
  for (int64_t i = 0; i < 70; ++i)
    differs = differs || choose_mask_type(all, 3, i) != choose_mask_type(all, 4, i);
  EXPECT_TRUE(differs);
  const std::vector<MaskType> two = {MaskType::Cloth, MaskType::N95};
  for (int64_t i = 0; i < 20; ++i) {
    MaskType t = choose_mask_type(two, 1, i);
    EXPECT_TRUE(t == MaskType::Cloth || t == MaskType::N95);
  }
  EXPECT_THROW(choose_mask_type({}, 1, 0), Error);
}

TEST(DatasetTool, MaskOptionsFollowThePolicy) {
  const std::vector<std::string> textures = {"/t/a.png", "/t/b.jpg"};
  auto shares = [&](MaskType type, bool use_textures) {
    int textured = 0, tinted = 0;
    for (uint64_t i = 0; i < 4000; ++i) {
      Generator g(rng_bits(99, i));
      MaskOptions mo = choose_mask_options(type, use_textures, textures, g);
      EXPECT_EQ(mo.type, type);
      textured += !mo.texture_path.empty();
      tinted += mo.tint;
      EXPECT_FALSE(mo.tint && !mo.texture_path.empty());
    }
    return std::pair<double, double>{textured / 4000.0, tinted / 4000.0};
  };
  auto [cloth_tex, cloth_tint] = shares(MaskType::Cloth, true);
  EXPECT_NEAR(cloth_tex, 0.5, 0.03);
  EXPECT_NEAR(cloth_tint, 0.25, 0.03);  // tinted half of the untextured half
  auto [plain_tex, plain_tint] = shares(MaskType::Cloth, false);
  EXPECT_EQ(plain_tex, 0.0);
  EXPECT_NEAR(plain_tint, 0.5, 0.03);
  auto [surg_tex, surg_tint] = shares(MaskType::Surgical, true);
  EXPECT_NEAR(surg_tex, 0.25, 0.03);
  auto [n95_tex, n95_tint] = shares(MaskType::N95, true);
  EXPECT_EQ(n95_tex + n95_tint, 0.0);
  // Same generator state, same choice.
  Generator a(5), b(5);
  MaskOptions x = choose_mask_options(MaskType::Cloth, true, textures, a);
  MaskOptions y = choose_mask_options(MaskType::Cloth, true, textures, b);
  EXPECT_EQ(x.texture_path, y.texture_path);
  EXPECT_EQ(x.tint, y.tint);
  EXPECT_EQ(x.tint_rgb, y.tint_rgb);
}

// The mask type and options every face gets with the seven template types, pinned: datasets
// built with them must stay byte-identical as the code around them changes (the digest was
// taken before the procedural type existed).
TEST(DatasetTool, TemplateTypeChoicesArePinned) {
  const std::vector<std::string> textures = {"/t/a.png", "/t/b.jpg", "/t/c.png"};
  std::string log;
  for (bool use_textures : {true, false})
    for (int64_t i = 0; i < 700; ++i) {
      const MaskType t = choose_mask_type(all_mask_types(), 3, i);
      Generator g(rng_bits(3, static_cast<uint64_t>(i)));
      const MaskOptions mo = choose_mask_options(t, use_textures, textures, g);
      char buf[256];
      std::snprintf(buf, sizeof buf, "%s|%s|%d|%d,%d,%d|%.6f|%.6f\n", mask_type_name(t).c_str(),
                    mo.texture_path.c_str(), mo.tint ? 1 : 0, mo.tint_rgb[0], mo.tint_rgb[1],
                    mo.tint_rgb[2], mo.tint_strength, mo.texture_strength);
      log += buf;
    }
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : log) h = (h ^ c) * 1099511628211ULL;
  EXPECT_EQ(h, 0x90c62b64aaf33475ULL) << log.substr(0, 400);
}

TEST(DatasetTool, ProceduralOptionsCarryASeedAndSometimesAFabric) {
  const std::vector<std::string> textures = {"/t/a.png", "/t/b.jpg"};
  std::set<uint64_t> seeds;
  int fabric = 0;
  for (uint64_t i = 0; i < 2000; ++i) {
    Generator g(rng_bits(5, i));
    const MaskOptions mo = choose_mask_options(MaskType::Procedural, true, textures, g);
    EXPECT_EQ(mo.type, MaskType::Procedural);
    EXPECT_FALSE(mo.tint);
    seeds.insert(mo.procedural_seed);
    fabric += !mo.texture_path.empty();
    Generator g2(rng_bits(5, i));
    EXPECT_TRUE(
        choose_mask_options(MaskType::Procedural, false, textures, g2).texture_path.empty());
    // The same number of draws whatever the type.
    Generator g3(rng_bits(5, i));
    choose_mask_options(MaskType::Cloth, true, textures, g3);
    EXPECT_EQ(g3.offset, g.offset);
  }
  EXPECT_EQ(seeds.size(), 2000u);
  EXPECT_NEAR(fabric / 2000.0, 0.2, 0.03);
}

// Template types and random masks in one dataset: both written, named in the manifest and
// counted in the summary.
TEST(DatasetTool, ProceduralMasksBesideTemplates) {
  TempDir dir;
  const std::string in = make_inputs(dir), out = dir / "out";
  DatasetOptions o = options(in, out, 2);
  o.mask_types = {MaskType::Surgical, MaskType::Procedural};
  o.textures = true;
  const DatasetSummary s = build_masked_dataset(o);
  ASSERT_EQ(s.faces_written, 4);
  const std::vector<std::pair<std::string, int64_t>> per_type = {{"surgical", 2},
                                                                 {"procedural", 2}};
  EXPECT_EQ(s.per_mask_type, per_type);
  EXPECT_NE(format_summary(s).find("per mask type: surgical 2 procedural 2\n"), std::string::npos)
      << format_summary(s);
  std::ifstream sj(out + "/summary.json");
  const std::string json((std::istreambuf_iterator<char>(sj)), std::istreambuf_iterator<char>());
  EXPECT_NE(json.find("\"per_mask_type\": {\"surgical\": 2, \"procedural\": 2}"), std::string::npos)
      << json;
  std::map<std::string, int> types;
  for (const ManifestRow& r : read_manifest(out + "/manifest.csv")) {
    ++types[r.mask_type];
    const Image masked = read_image(out + "/" + r.masked), real = read_image(out + "/" + r.real);
    const Image mask = read_image_rgba(out + "/" + r.mask);
    size_t covered = 0, changed_outside = 0;
    for (int y = 0; y < 128; ++y)
      for (int x = 0; x < 128; ++x) {
        if (mask.at(x, y, 0)) {
          ++covered;
          continue;
        }
        for (int c = 0; c < 3; ++c) changed_outside += masked.at(x, y, c) != real.at(x, y, c);
      }
    EXPECT_GT(covered, 128u * 128 / 20) << r.id << " " << r.mask_type;
    EXPECT_LT(covered, 128u * 128 / 2) << r.id << " " << r.mask_type;
    EXPECT_EQ(changed_outside, 0u) << r.id << " " << r.mask_type;
  }
  EXPECT_EQ(types, (std::map<std::string, int>{{"procedural", 2}, {"surgical", 2}}));
}

TEST(DatasetTool, SplitIsStableAndHasTheRequestedShare) {
  int test = 0;
  for (int i = 0; i < 20000; ++i) test += split_for_id(format_id(i), 11, 0.1) == "test";
  EXPECT_NEAR(test / 20000.0, 0.1, 0.01);
  EXPECT_EQ(split_for_id("000123", 11, 0.1), split_for_id("000123", 11, 0.1));
  EXPECT_EQ(split_for_id("000123", 11, 0.0), "train");
  EXPECT_EQ(split_for_id("000123", 11, 1.0), "test");
}

TEST(DatasetTool, ManifestRoundTripQuotesAwkwardFields) {
  TempDir dir;
  std::vector<ManifestRow> rows = {
      {"000002", "test", "/p/b.jpg", "N95", "masked/000002.png", "real/000002.png",
       "mask/000002.png", "landmarks/000002.txt"},
      {"000001", "train", "/p/a, \"quoted\".jpg", "cloth", "masked/000001.png", "real/000001.png",
       "mask/000001.png", "landmarks/000001.txt"}};
  write_manifest(dir / "m.csv", rows);
  std::vector<ManifestRow> back = read_manifest(dir / "m.csv");
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].id, "000001");  // sorted by id
  EXPECT_EQ(back[0].source, "/p/a, \"quoted\".jpg");
  EXPECT_EQ(back[1].mask_type, "N95");
  write_bytes(dir / "bad.csv", {'i', 'd', '\n'});
  EXPECT_THROW(read_manifest(dir / "bad.csv"), Error);
}

TEST(DatasetTool, ManifestSortsIdsNumericallyPastSixDigits) {
  TempDir dir;
  std::vector<ManifestRow> rows;
  for (const char* id : {"1000000", "999999", "000010"})
    rows.push_back({id, "train", "s", "N95", "m", "r", "k", "l"});
  write_manifest(dir / "m.csv", rows);
  std::vector<ManifestRow> back = read_manifest(dir / "m.csv");
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[0].id, "000010");
  EXPECT_EQ(back[1].id, "999999");
  EXPECT_EQ(back[2].id, "1000000");
}

TEST(DatasetTool, LandmarkFilesRoundTripWithTwoDecimals) {
  TempDir dir;
  Landmarks lm;
  for (int i = 0; i < 68; ++i) lm[i] = Point2{i * 1.234567, 200 - i * 0.5};
  write_landmarks(dir / "l.txt", lm);
  EXPECT_EQ(count_lines(dir / "l.txt"), 68);
  Landmarks back = read_landmarks(dir / "l.txt");
  for (int i = 0; i < 68; ++i) EXPECT_NEAR(back[i].x, lm[i].x, 0.005 + 1e-12);
  std::ifstream in(dir / "l.txt");
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first, "0.00 200.00");
  write_bytes(dir / "short.txt", {'1', ' ', '2', '\n'});
  EXPECT_THROW(read_landmarks(dir / "short.txt"), Error);
}

TEST(DatasetTool, BadOptionsAreErrors) {
  TempDir dir;
  DatasetOptions o;
  o.output = dir / "out";
  o.inputs = {dir / "missing"};
  EXPECT_THROW(build_masked_dataset(o), Error);
  o.inputs = {dir.str()};  // exists but holds no images
  EXPECT_THROW(build_masked_dataset(o), Error);
  o.size = 3;
  EXPECT_THROW(build_masked_dataset(o), Error);
}

// A folder that already holds a dataset is refused (its name and --overwrite in the error);
// with overwrite the stale files go, so the folder holds exactly one run's output.
TEST(DatasetTool, ExistingDatasetNeedsOverwrite) {
  TempDir dir;
  const std::string in = dir / "in";
  fs::create_directories(in);
  fs::copy_file(kDlibExamples + "/johns/John_Simm/000288_00470387.jpg", in + "/a.jpg");
  const std::string out = dir / "out";
  DatasetOptions o = options(in, out, 1);
  o.size = 64;
  o.contact_rows = 1;
  EXPECT_EQ(build_masked_dataset(o).faces_written, 1);

  auto expect_refused = [&](const std::string& what) {
    try {
      build_masked_dataset(o);
      ADD_FAILURE() << "no error for an existing dataset (" << what << ")";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(out), std::string::npos) << msg;
      EXPECT_NE(msg.find("--overwrite"), std::string::npos) << msg;
    }
  };
  expect_refused("manifest");
  // A run that died before writing its manifest still leaves images behind.
  fs::remove(out + "/manifest.csv");
  expect_refused("images only");
  EXPECT_TRUE(fs::exists(out + "/real/000000.png"));  // refusing touches nothing

  write_png(out + "/masked/999999.png", Image(4, 4, 3, 1));  // stale, from a "bigger" old run
  write_bytes(out + "/manifest.csv", {'o', 'l', 'd', '\n'});
  write_bytes(out + "/notes.txt", {'k', 'e', 'e', 'p', '\n'});  // not ours: left alone
  o.overwrite = true;
  EXPECT_EQ(build_masked_dataset(o).faces_written, 1);
  EXPECT_FALSE(fs::exists(out + "/masked/999999.png"));
  EXPECT_TRUE(fs::exists(out + "/notes.txt"));
  EXPECT_EQ(read_manifest(out + "/manifest.csv").size(), 1u);
  EXPECT_EQ(files_under(out + "/masked"), std::vector<std::string>{"000000.png"});

  // Empty subfolders alone (e.g. made by hand) are not a dataset.
  const std::string fresh = dir / "fresh";
  for (const char* sub : {"masked", "real", "mask", "landmarks"})
    fs::create_directories(fresh + "/" + sub);
  o.overwrite = false;
  o.output = fresh;
  EXPECT_EQ(build_masked_dataset(o).faces_written, 1);
}

// A folder dir/in holding two of dlib's example photos, one face each.
std::string two_photos(const TempDir& dir) {
  const std::string in = dir / "in";
  fs::create_directories(in);
  fs::copy_file(kDlibExamples + "/johns/John_Simm/000288_00470387.jpg", in + "/a.jpg");
  fs::copy_file(kDlibExamples + "/johns/John_Salley/000179_02159509.jpg", in + "/b.jpg");
  return in;
}

// The command-line program itself, when it has been built next to the tests.
TEST(DatasetTool, CommandLine) {
  const std::string exe = std::string(MASKOFF_BINARY_DIR) + "/make_masked_dataset";
  if (!fs::exists(exe)) GTEST_SKIP() << exe << " not built (make make_masked_dataset)";
  TempDir dir;
  const std::string in = two_photos(dir), log = dir / "log.txt";
  std::string cmd = exe + " --input " + in + " --output " + (dir / "out") +
                    " --size 96 --mask-types cloth,N95 --seed 3 --threads 2 --contact-rows 2 > " +
                    log + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::vector<ManifestRow> rows = read_manifest(dir / "out/manifest.csv");
  ASSERT_EQ(rows.size(), 2u);
  std::set<std::string> types = {rows[0].mask_type, rows[1].mask_type};
  EXPECT_EQ(types, (std::set<std::string>{"cloth", "N95"}));  // one block of two: each once
  std::ifstream lf(log);
  std::string text((std::istreambuf_iterator<char>(lf)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("faces written: 2"), std::string::npos) << text;
  EXPECT_NE(text.find("faces/s"), std::string::npos) << text;

  // The same output folder again: refused without --overwrite, replaced with it.
  const std::string again =
      exe + " --input " + in + " --output " + (dir / "out") + " --size 96 --threads 2";
  EXPECT_NE(std::system((again + " > " + log + " 2>&1").c_str()), 0);
  {
    std::ifstream lf3(log);
    std::string msg((std::istreambuf_iterator<char>(lf3)), std::istreambuf_iterator<char>());
    EXPECT_NE(msg.find("--overwrite"), std::string::npos) << msg;
    EXPECT_NE(msg.find(dir / "out"), std::string::npos) << msg;
  }
  EXPECT_EQ(std::system((again + " --overwrite > " + log + " 2>&1").c_str()), 0);
  EXPECT_EQ(read_manifest(dir / "out/manifest.csv").size(), 2u);

  cmd = exe + " --input " + in + " --output " + (dir / "bad") + " --mask-types bogus > " + log +
        " 2>&1";
  EXPECT_NE(std::system(cmd.c_str()), 0);
  std::ifstream lf2(log);
  std::string err((std::istreambuf_iterator<char>(lf2)), std::istreambuf_iterator<char>());
  EXPECT_NE(err.find("bogus"), std::string::npos) << err;
  EXPECT_NE(err.find("procedural"), std::string::npos) << err;  // among the valid names
}

// --mask-types: procedural alone, and "all" (the seven template types) combined with it.
TEST(DatasetTool, CommandLineMaskTypesWithProcedural) {
  const std::string exe = std::string(MASKOFF_BINARY_DIR) + "/make_masked_dataset";
  if (!fs::exists(exe)) GTEST_SKIP() << exe << " not built (make make_masked_dataset)";
  TempDir dir;
  const std::string in = two_photos(dir), log = dir / "log.txt";
  auto run = [&](const std::string& types, const std::string& out) {
    const std::string cmd = exe + " --input " + in + " --output " + (dir / out) +
                            " --size 64 --contact-rows 0 --threads 1 --mask-types " + types +
                            " > " + log + " 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream lf(log);
    return std::string((std::istreambuf_iterator<char>(lf)), std::istreambuf_iterator<char>());
  };
  std::string text = run("procedural", "p");
  EXPECT_NE(text.find("mask types procedural, seed"), std::string::npos) << text;
  EXPECT_NE(text.find("per mask type: procedural 2\n"), std::string::npos) << text;
  for (const ManifestRow& r : read_manifest(dir / "p/manifest.csv"))
    EXPECT_EQ(r.mask_type, "procedural");
  text = run("all,procedural,surgical", "a");
  EXPECT_NE(text.find("mask types surgical,surgical_blue,surgical_green,N95,KN95,cloth,gas,"
                      "procedural, seed"),
            std::string::npos)
      << text;
  text = run("all", "b");
  EXPECT_NE(text.find("mask types surgical,surgical_blue,surgical_green,N95,KN95,cloth,gas, seed"),
            std::string::npos)
      << text;
  const size_t line = text.find("per mask type:");
  ASSERT_NE(line, std::string::npos) << text;
  EXPECT_EQ(text.substr(line, text.find('\n', line) - line).find("procedural"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace maskoff::data::testing
