#ifndef CDLIBFACE_H
#define CDLIBFACE_H
// C API over dlib's face detector, 5-point shape predictor and ResNet embedder.
// Every call is synchronous; one engine must not be used from two threads at once.
#include <stddef.h>
#include <stdint.h>

// No C++ exception ever leaves a call: each entry point is noexcept and catches everything.
#ifdef __cplusplus
#define FD_NOEXCEPT noexcept
extern "C" {
#else
#define FD_NOEXCEPT
#endif

typedef struct fd_engine fd_engine;

typedef struct fd_rect {
    int32_t left, top, right, bottom;  // inclusive pixel coordinates, dlib convention
    float score;
} fd_rect;

typedef struct fd_point {
    float x, y;
} fd_point;

enum { FD_DETECTOR_HOG = 0, FD_DETECTOR_MMOD = 1 };
enum { FD_EMBEDDING_DIM = 128, FD_CHIP_SIZE = 150 };

/// Loads the models. `mmod_path` may be NULL (CNN detector unavailable).
/// Returns NULL and writes a message into `err` on failure.
fd_engine *fd_engine_open(const char *landmarks_path, const char *embedder_path,
                          const char *mmod_path, char *err, size_t err_len) FD_NOEXCEPT;
void fd_engine_close(fd_engine *engine) FD_NOEXCEPT;

/// How many threads OpenBLAS may use inside one call (process-wide). With one engine per core,
/// 1 avoids each worker's BLAS threads fighting the other workers for the same cores.
void fd_set_blas_threads(int threads) FD_NOEXCEPT;

/// The kernels OpenBLAS chose as it loaded (its core name: "Haswell", "SkylakeX", "Prescott", ...).
const char *fd_blas_core(void) FD_NOEXCEPT;

/// The fastest OpenBLAS core name this CPU (and its OS) can run, from its features; NULL when
/// none better than the generic kernels is known.
const char *fd_blas_best_core(void) FD_NOEXCEPT;
int fd_engine_has_mmod(const fd_engine *engine) FD_NOEXCEPT;

/// HOG detection with the detector built for AVX2 and FMA (1; only where the CPU has them: the
/// default there) or the baseline build (0). Returns 1 when the wide one is now in use.
int fd_engine_use_wide_hog(fd_engine *engine, int wide) FD_NOEXCEPT;

/// 1 when HOG detection runs on the AVX2 build.
int fd_engine_wide_hog_in_use(const fd_engine *engine) FD_NOEXCEPT;

/// 1 when this build and CPU can run the AVX2 build of the HOG detector (CDlibWideHOG's test,
/// for Swift, which does not import that module).
int fd_wide_hog_available(void) FD_NOEXCEPT;

/// Detects faces. HOG takes gray (channels 1); MMOD takes RGB (channels 3).
/// The image is resized by `scale` before detection; boxes come back in input coordinates.
/// Returns the number of faces found (may exceed `capacity`; only `capacity` are written),
/// or -1 on error with a message in `err`.
int fd_detect(fd_engine *engine, int detector, const uint8_t *pixels, int width, int height,
              int channels, double scale, double threshold, fd_rect *out, int capacity,
              char *err, size_t err_len) FD_NOEXCEPT;

/// 5-point landmarks of the face in `box`. Image gray (1) or RGB (3). Returns 0 or -1.
int fd_landmarks(fd_engine *engine, const uint8_t *pixels, int width, int height, int channels,
                 fd_rect box, fd_point out[5], char *err, size_t err_len) FD_NOEXCEPT;

/// 128-D embeddings for `faces` faces given their 5 landmarks each (landmarks[5*i ... 5*i+4]).
/// `out` holds faces*128 floats. `chips`, if not NULL, receives faces*150*150*3 RGB bytes:
/// the aligned chips the network saw. Returns 0 or -1.
int fd_embed(fd_engine *engine, const uint8_t *rgb, int width, int height,
             const fd_point *landmarks, int faces, float *out, uint8_t *chips,
             char *err, size_t err_len) FD_NOEXCEPT;

#ifdef __cplusplus
}
#endif
#endif
