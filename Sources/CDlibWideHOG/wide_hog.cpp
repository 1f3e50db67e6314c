// dlib's HOG detector compiled with AVX2 and FMA: its feature extraction and filtering are most
// of faced's CPU time, and dlib's vector code takes 8 floats at a time only when built for AVX.
#include "CDlibWideHOG.h"

#include <cstdio>

#if defined(__x86_64__) && defined(__clang__) && __has_include(<bits/stdc++.h>)
#define FD_WIDE_BUILT 1
// This file is built for every x86-64; the functions declared between the pragmas below are built
// for AVX2. One of them runs as the program loads, on any CPU: the constructor of dlib's
// OBJECT_PART_NOT_PRESENT (a point, two plain stores); scripts/check-vector-code.py fails the
// build if it, or anything else reached from the static initialisers, ever holds AVX code.
// Every standard header comes first, outside them: the library's templates this file
// instantiates are the same symbols as everywhere else in the program, and the linker keeps one
// copy of each, which must run on any CPU.
#include <bits/stdc++.h>
#include <cpuid.h>
#include <immintrin.h>
// The view over the caller's pixels: baseline code, the same as the baseline build's.
#include "CDlibFaceView.h"
// dlib's CPU tests are inline functions outside its namespace, whose bodies depend on its
// DLIB_HAVE_* macros: included before those are set, they are the baseline build's own.
#include <dlib/simd/simd_check.h>
// dlib picks its vector code from these as its headers are read.
#define DLIB_HAVE_SSE3
#define DLIB_HAVE_SSE41
#define DLIB_HAVE_AVX
#define DLIB_HAVE_AVX2

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
// dlib is header templates: the baseline build (CDlibFace) instantiates the same ones. Under
// another namespace these are other symbols, so the linker cannot fold one build into the other.
#define dlib faced_wide_dlib
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>
#undef dlib

namespace wide = faced_wide_dlib;

namespace faced_wide_dlib {
template <typename P> struct image_traits<faceview::view<P>> { typedef P pixel_type; };
}  // namespace faced_wide_dlib

namespace {
void detect_wide(wide::frontal_face_detector &detector, const uint8_t *pixels, int w, int h, double scale,
                 double threshold, std::vector<wide::rect_detection> &faces) {
    faceview::view<unsigned char> src{pixels, h, w};
    if (scale == 1.0) {
        detector(src, faces, threshold);
    } else {
        wide::array2d<unsigned char> resized(std::max(1L, std::lround(h * scale)), std::max(1L, std::lround(w * scale)));
        wide::resize_image(src, resized);
        detector(resized, faces, threshold);
    }
}
}  // namespace
#pragma clang attribute pop

struct fd_wide_hog {
    wide::frontal_face_detector detector;
};

namespace {
void write_error(char *err, size_t len, const char *a, const char *b = "") noexcept {
    if (!err || len == 0) return;
    std::snprintf(err, len, "%s%s", a ? a : "", b ? b : "");
}
}  // namespace
#endif

extern "C" {

int fd_wide_hog_supported(void) noexcept {
#ifdef FD_WIDE_BUILT
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
#else
    return 0;
#endif
}

fd_wide_hog *fd_wide_hog_open(const char *serialized, size_t length, char *err, size_t err_len) noexcept {
#ifdef FD_WIDE_BUILT
    if (!fd_wide_hog_supported()) {
        write_error(err, err_len, "this CPU has no AVX2 and FMA");
        return nullptr;
    }
    try {
        std::unique_ptr<fd_wide_hog> d(new fd_wide_hog);
        std::istringstream in(std::string(serialized, length));
        wide::deserialize(d->detector, in);
        return d.release();
    } catch (const std::bad_alloc &) {
        write_error(err, err_len, "out of memory");
    } catch (const std::exception &ex) {
        write_error(err, err_len, "unreadable detector: ", ex.what());
    } catch (...) {
        write_error(err, err_len, "unreadable detector");
    }
    return nullptr;
#else
    (void)serialized; (void)length;
    if (err && err_len) std::snprintf(err, err_len, "built without the AVX2 detector");
    return nullptr;
#endif
}

void fd_wide_hog_close(fd_wide_hog *detector) noexcept {
#ifdef FD_WIDE_BUILT
    delete detector;
#else
    (void)detector;
#endif
}

int fd_wide_hog_detect(fd_wide_hog *d, const uint8_t *pixels, int w, int h, double scale, double threshold,
                       fd_wide_found found, void *context, char *err, size_t err_len) noexcept {
#ifdef FD_WIDE_BUILT
    try {
        std::vector<wide::rect_detection> faces;
        detect_wide(d->detector, pixels, w, h, scale, threshold, faces);
        for (const auto &f : faces)
            found(context, fd_wide_box{f.rect.left(), f.rect.top(), f.rect.right(), f.rect.bottom(),
                                       f.detection_confidence});
        return 0;
    } catch (const std::bad_alloc &) {
        write_error(err, err_len, "out of memory in face detection");
    } catch (const std::exception &ex) {
        write_error(err, err_len, ex.what());
    } catch (...) {
        write_error(err, err_len, "unknown error in face detection");
    }
    return -1;
#else
    (void)d; (void)pixels; (void)w; (void)h; (void)scale; (void)threshold; (void)found; (void)context;
    if (err && err_len) std::snprintf(err, err_len, "built without the AVX2 detector");
    return -1;
#endif
}

}  // extern "C"
