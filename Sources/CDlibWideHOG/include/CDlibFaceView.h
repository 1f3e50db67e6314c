#ifndef CDLIBFACEVIEW_H
#define CDLIBFACEVIEW_H
// A read-only view over a caller's packed buffer, so dlib reads Swift's memory in place; both
// builds of the detector use it (each says, in its own dlib namespace, that it is an image).
// C++ only: Swift imports this directory as a C module, which sees nothing here.
#ifdef __cplusplus
namespace faceview {
template <typename P>
struct view {
    const P *data;
    long rows, cols;
};
template <typename P> long num_rows(const view<P> &v) { return v.rows; }
template <typename P> long num_columns(const view<P> &v) { return v.cols; }
template <typename P> const void *image_data(const view<P> &v) { return v.data; }
template <typename P> void *image_data(view<P> &v) { return const_cast<P *>(v.data); }
template <typename P> long width_step(const view<P> &v) { return v.cols * sizeof(P); }
}  // namespace faceview
#endif
#endif
