// The paper's literal landmark term for --landmark-loss dlib: dlib's 68-point predictor on
// each generated face. It sits on the data library (dlib, image conversion), apart from
// the training step (train/pix2pix.h), which takes it as a LandmarkDistanceFn.
#pragma once
#include "train/pix2pix.h"

namespace maskoff::train {

// Loads dlib's predictor now (throws naming the model file when it is missing). The
// function it returns places the predictor by the real face's landmark box: the generated
// face sits where the real one is, and dlib's detector misses small faces.
LandmarkDistanceFn dlib_landmark_distance();

}  // namespace maskoff::train
