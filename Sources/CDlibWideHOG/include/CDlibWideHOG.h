#ifndef CDLIBWIDEHOG_H
#define CDLIBWIDEHOG_H
// dlib's HOG face detector built for AVX2 and FMA, chosen at run time on CPUs that have them.
// Only CDlibFace calls this; it is plain C so that no dlib type crosses between the two builds.
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define FD_WIDE_NOEXCEPT noexcept
extern "C" {
#else
#define FD_WIDE_NOEXCEPT
#endif

typedef struct fd_wide_hog fd_wide_hog;

typedef struct fd_wide_box {
    long left, top, right, bottom;  // in the resized image's pixels, inclusive
    double score;
} fd_wide_box;

typedef void (*fd_wide_found)(void *context, fd_wide_box box);

/// 1 when this build has the wide detector and this CPU (and its OS) can run it.
int fd_wide_hog_supported(void) FD_WIDE_NOEXCEPT;

/// A detector from dlib's serialization of an object_detector<scan_fhog_pyramid<pyramid_down<6>>>.
/// NULL when unsupported or unreadable (with a message in `err`).
fd_wide_hog *fd_wide_hog_open(const char *serialized, size_t length, char *err, size_t err_len) FD_WIDE_NOEXCEPT;
void fd_wide_hog_close(fd_wide_hog *detector) FD_WIDE_NOEXCEPT;

/// Resizes the gray image by `scale` (none at 1) and runs the detector on it, calling `found` for
/// each face. Returns 0, or -1 with a message in `err`.
int fd_wide_hog_detect(fd_wide_hog *detector, const uint8_t *pixels, int width, int height, double scale,
                       double threshold, fd_wide_found found, void *context, char *err,
                       size_t err_len) FD_WIDE_NOEXCEPT;

#ifdef __cplusplus
}
#endif
#endif
