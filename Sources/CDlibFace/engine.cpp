// dlib's face models behind a C API. The network types must match the serialized models
// exactly; they are dlib's examples dnn_face_recognition_ex.cpp and
// dnn_mmod_face_detection_ex.cpp.
#include "CDlibFace.h"
#include "CDlibFaceView.h"
#include "CDlibWideHOG.h"

#include <dlib/dnn.h>
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace dlib;

namespace facenet {
template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual = add_prev1<block<N, BN, 1, tag1<SUBNET>>>;

template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual_down = add_prev2<avg_pool<2, 2, 2, 2, skip1<tag2<block<N, BN, 2, tag1<SUBNET>>>>>>;

template <int N, template <typename> class BN, int stride, typename SUBNET>
using block = BN<con<N, 3, 3, 1, 1, relu<BN<con<N, 3, 3, stride, stride, SUBNET>>>>>;

template <int N, typename SUBNET> using ares = relu<residual<block, N, affine, SUBNET>>;
template <int N, typename SUBNET> using ares_down = relu<residual_down<block, N, affine, SUBNET>>;

template <typename SUBNET> using alevel0 = ares_down<256, SUBNET>;
template <typename SUBNET> using alevel1 = ares<256, ares<256, ares_down<256, SUBNET>>>;
template <typename SUBNET> using alevel2 = ares<128, ares<128, ares_down<128, SUBNET>>>;
template <typename SUBNET> using alevel3 = ares<64, ares<64, ares<64, ares_down<64, SUBNET>>>>;
template <typename SUBNET> using alevel4 = ares<32, ares<32, ares<32, SUBNET>>>;

using anet_type = loss_metric<fc_no_bias<128, avg_pool_everything<
    alevel0<alevel1<alevel2<alevel3<alevel4<
    max_pool<3, 3, 2, 2, relu<affine<con<32, 7, 7, 2, 2, input_rgb_image_sized<150>>>>>>>>>>>>>;

template <long num_filters, typename SUBNET> using con5d = con<num_filters, 5, 5, 2, 2, SUBNET>;
template <long num_filters, typename SUBNET> using con5 = con<num_filters, 5, 5, 1, 1, SUBNET>;
template <typename SUBNET>
using downsampler = relu<affine<con5d<32, relu<affine<con5d<32, relu<affine<con5d<16, SUBNET>>>>>>>>>;
template <typename SUBNET> using rcon5 = relu<affine<con5<45, SUBNET>>>;
using mmod_type = loss_mmod<con<1, 9, 9, 1, 1, rcon5<rcon5<rcon5<downsampler<
    input_rgb_image_pyramid<pyramid_down<6>>>>>>>>;
}  // namespace facenet

namespace dlib {
template <typename P> struct image_traits<faceview::view<P>> { typedef P pixel_type; };
}  // namespace dlib

// Built only inside fd_engine_open's try: every member's constructor may allocate (and throw).
struct fd_engine {
    frontal_face_detector hog;
    shape_predictor landmarks;
    facenet::anet_type embedder;
    facenet::mmod_type mmod;
    bool has_mmod = false;
    // The same detector built for AVX2 and FMA, when the CPU has them; `hog` otherwise.
    fd_wide_hog *wide_hog = nullptr;
    bool use_wide_hog = false;
    fd_engine() = default;
    fd_engine(const fd_engine &) = delete;
    fd_engine &operator=(const fd_engine &) = delete;
    ~fd_engine() { fd_wide_hog_close(wide_hog); }
};

namespace {
// Allocates nothing, so it is safe inside a catch handler (a std::string there could throw
// bad_alloc out of a noexcept function and terminate the process).
void write_error(char *err, size_t len, const char *a, const char *b = "", const char *c = "") noexcept {
    if (!err || len == 0) return;
    std::snprintf(err, len, "%s%s%s", a ? a : "", b ? b : "", c ? c : "");
}

void write_error(char *err, size_t len, const std::string &message) noexcept {
    write_error(err, len, message.c_str());
}

template <typename P>
faceview::view<P> view_of(const uint8_t *pixels, int width, int height) {
    return faceview::view<P>{reinterpret_cast<const P *>(pixels), height, width};
}

rectangle to_dlib(fd_rect r) { return rectangle(r.left, r.top, r.right, r.bottom); }

void collect_wide(void *context, fd_wide_box box) {
    auto &found = *static_cast<std::vector<rect_detection> *>(context);
    rect_detection d;
    d.rect = rectangle(box.left, box.top, box.right, box.bottom);
    d.detection_confidence = box.score;
    d.weight_index = 0;
    found.push_back(d);
}

int hog_detect(fd_engine *e, const uint8_t *pixels, int w, int h, double scale, double threshold,
               std::vector<rect_detection> &found) {
    if (e->use_wide_hog) {
        char err[256] = {0};
        if (fd_wide_hog_detect(e->wide_hog, pixels, w, h, scale, threshold, collect_wide, &found, err, sizeof err) != 0)
            throw std::runtime_error(err);
        return 0;
    }
    auto src = view_of<unsigned char>(pixels, w, h);
    if (scale == 1.0) {
        e->hog(src, found, threshold);
    } else {
        array2d<unsigned char> resized(std::max(1L, std::lround(h * scale)),
                                       std::max(1L, std::lround(w * scale)));
        resize_image(src, resized);
        e->hog(resized, found, threshold);
    }
    return 0;
}

int mmod_detect(fd_engine *e, const uint8_t *pixels, int w, int h, double scale, double threshold,
                std::vector<rect_detection> &found) {
    auto src = view_of<rgb_pixel>(pixels, w, h);
    matrix<rgb_pixel> img(std::max(1L, std::lround(h * scale)), std::max(1L, std::lround(w * scale)));
    if (scale == 1.0) assign_image(img, src);
    else resize_image(src, img);
    for (const auto &d : e->mmod.process(img, threshold)) {
        rect_detection r;
        r.rect = d.rect;
        r.detection_confidence = d.detection_confidence;
        r.weight_index = 0;
        found.push_back(r);
    }
    return 0;
}
}  // namespace

extern "C" void openblas_set_num_threads(int num_threads);
extern "C" char *openblas_get_corename(void);

extern "C" {

void fd_set_blas_threads(int threads) noexcept { openblas_set_num_threads(threads > 0 ? threads : 1); }

const char *fd_blas_core(void) noexcept {
    const char *name = openblas_get_corename();
    return name ? name : "";
}

const char *fd_blas_best_core(void) noexcept {
#if defined(__x86_64__)
    // The compiler's checks include the OS saving the wider registers (XGETBV).
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512cd"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
    if (__builtin_cpu_supports("avx")) return "Sandybridge";
#endif
    return nullptr;
}


fd_engine *fd_engine_open(const char *landmarks_path, const char *embedder_path,
                          const char *mmod_path, char *err, size_t err_len) noexcept {
    const char *current = landmarks_path ? landmarks_path : "(no path)";
    try {
        std::unique_ptr<fd_engine> e(new fd_engine);
        e->hog = get_frontal_face_detector();
        if (fd_wide_hog_supported()) {
            std::ostringstream detector;
            serialize(e->hog, detector);
            const std::string bytes = detector.str();
            // Unreadable there (it cannot be: the same bytes): the baseline detector serves.
            e->wide_hog = fd_wide_hog_open(bytes.data(), bytes.size(), nullptr, 0);
            e->use_wide_hog = e->wide_hog != nullptr;
        }
        deserialize(landmarks_path) >> e->landmarks;
        if (e->landmarks.num_parts() != 5) {
            write_error(err, err_len, std::string(landmarks_path) + ": expected a 5-point shape predictor, found " +
                                          std::to_string(e->landmarks.num_parts()) + " points");
            return nullptr;
        }
        current = embedder_path;
        deserialize(embedder_path) >> e->embedder;
        if (mmod_path) {
            current = mmod_path;
            deserialize(mmod_path) >> e->mmod;
            e->has_mmod = true;
        }
        return e.release();
    } catch (const std::bad_alloc &) {
        write_error(err, err_len, current, ": out of memory");
    } catch (const std::exception &ex) {
        write_error(err, err_len, current, ": ", ex.what());
    } catch (...) {
        write_error(err, err_len, current, ": unknown error while loading the model");
    }
    return nullptr;
}

void fd_engine_close(fd_engine *engine) noexcept { delete engine; }

int fd_engine_has_mmod(const fd_engine *engine) noexcept { return engine && engine->has_mmod ? 1 : 0; }

int fd_wide_hog_available(void) noexcept { return fd_wide_hog_supported(); }

int fd_engine_wide_hog_in_use(const fd_engine *engine) noexcept { return engine && engine->use_wide_hog ? 1 : 0; }

int fd_engine_use_wide_hog(fd_engine *engine, int wide) noexcept {
    if (!engine) return 0;
    engine->use_wide_hog = wide && engine->wide_hog;
    return engine->use_wide_hog ? 1 : 0;
}

int fd_detect(fd_engine *e, int detector, const uint8_t *pixels, int w, int h, int channels,
              double scale, double threshold, fd_rect *out, int capacity, char *err, size_t err_len) noexcept {
    if (w <= 0 || h <= 0 || scale <= 0) {
        write_error(err, err_len, "invalid image size or scale");
        return -1;
    }
    try {
        std::vector<rect_detection> found;
        if (detector == FD_DETECTOR_HOG) {
            if (channels != 1) { write_error(err, err_len, "HOG expects a gray image"); return -1; }
            hog_detect(e, pixels, w, h, scale, threshold, found);
        } else if (detector == FD_DETECTOR_MMOD) {
            if (!e->has_mmod) { write_error(err, err_len, "the CNN detector model was not loaded"); return -1; }
            if (channels != 3) { write_error(err, err_len, "the CNN detector expects an RGB image"); return -1; }
            mmod_detect(e, pixels, w, h, scale, threshold, found);
        } else {
            write_error(err, err_len, "unknown detector");
            return -1;
        }
        std::sort(found.begin(), found.end(),
                  [](const rect_detection &a, const rect_detection &b) { return a.detection_confidence > b.detection_confidence; });
        int n = static_cast<int>(found.size());
        for (int i = 0; i < n && i < capacity; ++i) {
            rectangle r = found[i].rect;
            out[i].left = static_cast<int32_t>(std::lround(r.left() / scale));
            out[i].top = static_cast<int32_t>(std::lround(r.top() / scale));
            out[i].right = static_cast<int32_t>(std::lround(r.right() / scale));
            out[i].bottom = static_cast<int32_t>(std::lround(r.bottom() / scale));
            out[i].score = static_cast<float>(found[i].detection_confidence);
        }
        return n;
    } catch (const std::exception &ex) {
        write_error(err, err_len, ex.what());
    } catch (...) {
        write_error(err, err_len, "unknown error in face detection");
    }
    return -1;
}

int fd_landmarks(fd_engine *e, const uint8_t *pixels, int w, int h, int channels, fd_rect box,
                 fd_point out[5], char *err, size_t err_len) noexcept {
    try {
        full_object_detection shape;
        if (channels == 1) shape = e->landmarks(view_of<unsigned char>(pixels, w, h), to_dlib(box));
        else if (channels == 3) shape = e->landmarks(view_of<rgb_pixel>(pixels, w, h), to_dlib(box));
        else { write_error(err, err_len, "landmarks expect a gray or RGB image"); return -1; }
        for (unsigned long i = 0; i < 5; ++i) {
            out[i].x = static_cast<float>(shape.part(i).x());
            out[i].y = static_cast<float>(shape.part(i).y());
        }
    } catch (const std::exception &ex) {
        write_error(err, err_len, ex.what());
        return -1;
    } catch (...) {
        write_error(err, err_len, "unknown error in landmark detection");
        return -1;
    }
    return 0;
}

int fd_embed(fd_engine *e, const uint8_t *rgb, int w, int h, const fd_point *landmarks, int faces,
             float *out, uint8_t *chips_out, char *err, size_t err_len) noexcept {
    if (faces <= 0) return 0;
    try {
        auto src = view_of<rgb_pixel>(rgb, w, h);
        std::vector<matrix<rgb_pixel>> chips(faces);
        for (int f = 0; f < faces; ++f) {
            std::vector<point> parts;
            long minx = LONG_MAX, miny = LONG_MAX, maxx = LONG_MIN, maxy = LONG_MIN;
            for (int i = 0; i < 5; ++i) {
                point p(std::lround(landmarks[5 * f + i].x), std::lround(landmarks[5 * f + i].y));
                parts.push_back(p);
                minx = std::min(minx, p.x()); maxx = std::max(maxx, p.x());
                miny = std::min(miny, p.y()); maxy = std::max(maxy, p.y());
            }
            full_object_detection shape(rectangle(minx, miny, maxx, maxy), parts);
            extract_image_chip(src, get_face_chip_details(shape, FD_CHIP_SIZE, 0.25), chips[f]);
            if (chips_out) {
                uint8_t *dst = chips_out + static_cast<size_t>(f) * FD_CHIP_SIZE * FD_CHIP_SIZE * 3;
                for (long r = 0; r < FD_CHIP_SIZE; ++r)
                    for (long c = 0; c < FD_CHIP_SIZE; ++c) {
                        const rgb_pixel &p = chips[f](r, c);
                        *dst++ = p.red; *dst++ = p.green; *dst++ = p.blue;
                    }
            }
        }
        std::vector<matrix<float, 0, 1>> vectors = e->embedder(chips, 16);
        for (int f = 0; f < faces; ++f)
            std::memcpy(out + static_cast<size_t>(f) * FD_EMBEDDING_DIM, &vectors[f](0), FD_EMBEDDING_DIM * sizeof(float));
    } catch (const std::exception &ex) {
        write_error(err, err_len, ex.what());
        return -1;
    } catch (...) {
        write_error(err, err_len, "unknown error in face embedding");
        return -1;
    }
    return 0;
}

}  // extern "C"
