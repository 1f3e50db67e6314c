// Swift cannot call variadic C functions (v4l2_open, v4l2_ioctl) nor expand the _IOWR ioctl
// macros, and the V4L2 structs hold unions: these wrappers keep that on the C side.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/videodev2.h>
#include <libv4l2.h>

#include <sys/ioctl.h>
#include <unistd.h>

/// Opens without libv4l2, which prints to stderr when a node is no V4L2 device.
static inline int cv4l2_open_raw(const char *path) { return open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC); }

static inline int cv4l2_querycap_raw(int fd, struct v4l2_capability *cap) {
    memset(cap, 0, sizeof *cap);
    int r;
    do { r = ioctl(fd, VIDIOC_QUERYCAP, cap); } while (r == -1 && errno == EINTR);
    return r;
}

/// Hands a checked capture node to libv4l2 (format conversion, emulated formats).
static inline int cv4l2_adopt(int fd) { return v4l2_fd_open(fd, 0); }
static inline int cv4l2_close(int fd) { return v4l2_close(fd); }

static inline int cv4l2_xioctl(int fd, unsigned long request, void *arg) {
    int r;
    do { r = v4l2_ioctl(fd, request, arg); } while (r == -1 && errno == EINTR);
    return r;
}

/// Capabilities of the opened node (device_caps when the driver reports them).
static inline unsigned int cv4l2_node_caps(const struct v4l2_capability *cap) {
    return (cap->capabilities & V4L2_CAP_DEVICE_CAPS) ? cap->device_caps : cap->capabilities;
}

static inline int cv4l2_enum_format(int fd, unsigned int index, struct v4l2_fmtdesc *desc) {
    memset(desc, 0, sizeof *desc);
    desc->index = index;
    desc->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    return cv4l2_xioctl(fd, VIDIOC_ENUM_FMT, desc);
}

/// type: 1 discrete, 2 continuous, 3 stepwise (V4L2_FRMSIZE_TYPE_*); for stepwise the
/// min/max/step go to w/h/maxw/maxh/stepw/steph.
static inline int cv4l2_enum_size(int fd, unsigned int fourcc, unsigned int index, unsigned int *type,
                                  unsigned int *w, unsigned int *h, unsigned int *maxw, unsigned int *maxh,
                                  unsigned int *stepw, unsigned int *steph) {
    struct v4l2_frmsizeenum s;
    memset(&s, 0, sizeof s);
    s.index = index;
    s.pixel_format = fourcc;
    int r = cv4l2_xioctl(fd, VIDIOC_ENUM_FRAMESIZES, &s);
    if (r != 0) return r;
    *type = s.type;
    if (s.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
        *w = s.discrete.width; *h = s.discrete.height; *maxw = *w; *maxh = *h; *stepw = 0; *steph = 0;
    } else {
        *w = s.stepwise.min_width; *h = s.stepwise.min_height;
        *maxw = s.stepwise.max_width; *maxh = s.stepwise.max_height;
        *stepw = s.stepwise.step_width; *steph = s.stepwise.step_height;
    }
    return 0;
}

/// Frame intervals as fractions (seconds per frame). For continuous or stepwise ranges the
/// minimum interval (fastest rate) is given, and *type says which.
static inline int cv4l2_enum_interval(int fd, unsigned int fourcc, unsigned int w, unsigned int h, unsigned int index,
                                      unsigned int *type, unsigned int *num, unsigned int *den) {
    struct v4l2_frmivalenum iv;
    memset(&iv, 0, sizeof iv);
    iv.index = index;
    iv.pixel_format = fourcc;
    iv.width = w;
    iv.height = h;
    int r = cv4l2_xioctl(fd, VIDIOC_ENUM_FRAMEINTERVALS, &iv);
    if (r != 0) return r;
    *type = iv.type;
    if (iv.type == V4L2_FRMIVAL_TYPE_DISCRETE) { *num = iv.discrete.numerator; *den = iv.discrete.denominator; }
    else { *num = iv.stepwise.min.numerator; *den = iv.stepwise.min.denominator; }
    return 0;
}

/// Sets (or with try_only, tries) a single-planar capture format; the driver's choice comes back.
static inline int cv4l2_set_format(int fd, int try_only, unsigned int *w, unsigned int *h, unsigned int *fourcc,
                                   unsigned int *bytesperline, unsigned int *sizeimage) {
    struct v4l2_format f;
    memset(&f, 0, sizeof f);
    f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    f.fmt.pix.width = *w;
    f.fmt.pix.height = *h;
    f.fmt.pix.pixelformat = *fourcc;
    f.fmt.pix.field = V4L2_FIELD_ANY;
    int r = cv4l2_xioctl(fd, try_only ? VIDIOC_TRY_FMT : VIDIOC_S_FMT, &f);
    if (r != 0) return r;
    *w = f.fmt.pix.width; *h = f.fmt.pix.height; *fourcc = f.fmt.pix.pixelformat;
    *bytesperline = f.fmt.pix.bytesperline; *sizeimage = f.fmt.pix.sizeimage;
    return 0;
}

/// Asks for a frame rate (as an interval num/den, 0/0 leaves it) and reads back what was granted.
static inline int cv4l2_frame_interval(int fd, unsigned int *num, unsigned int *den) {
    struct v4l2_streamparm p;
    memset(&p, 0, sizeof p);
    p.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (*num && *den) {
        if (cv4l2_xioctl(fd, VIDIOC_G_PARM, &p) == 0 && (p.parm.capture.capability & V4L2_CAP_TIMEPERFRAME)) {
            p.parm.capture.timeperframe.numerator = *num;
            p.parm.capture.timeperframe.denominator = *den;
            cv4l2_xioctl(fd, VIDIOC_S_PARM, &p);
        }
        memset(&p, 0, sizeof p);
        p.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    }
    int r = cv4l2_xioctl(fd, VIDIOC_G_PARM, &p);
    if (r != 0) return r;
    *num = p.parm.capture.timeperframe.numerator;
    *den = p.parm.capture.timeperframe.denominator;
    return 0;
}

static inline int cv4l2_request_buffers(int fd, unsigned int *count) {
    struct v4l2_requestbuffers rb;
    memset(&rb, 0, sizeof rb);
    rb.count = *count;
    rb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    rb.memory = V4L2_MEMORY_MMAP;
    int r = cv4l2_xioctl(fd, VIDIOC_REQBUFS, &rb);
    *count = rb.count;
    return r;
}

/// Maps buffer `index`; returns MAP_FAILED on failure.
static inline void *cv4l2_map_buffer(int fd, unsigned int index, unsigned int *length) {
    struct v4l2_buffer b;
    memset(&b, 0, sizeof b);
    b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    b.memory = V4L2_MEMORY_MMAP;
    b.index = index;
    if (cv4l2_xioctl(fd, VIDIOC_QUERYBUF, &b) != 0) return MAP_FAILED;
    *length = b.length;
    return v4l2_mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, b.m.offset);
}

static inline int cv4l2_unmap(void *start, unsigned int length) { return v4l2_munmap(start, length); }

static inline int cv4l2_queue(int fd, unsigned int index) {
    struct v4l2_buffer b;
    memset(&b, 0, sizeof b);
    b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    b.memory = V4L2_MEMORY_MMAP;
    b.index = index;
    return cv4l2_xioctl(fd, VIDIOC_QBUF, &b);
}

/// Dequeues a filled buffer: its index, bytes used, driver timestamp (µs, usually
/// CLOCK_MONOTONIC), sequence number and whether the driver flagged it as corrupt.
static inline int cv4l2_dequeue(int fd, unsigned int *index, unsigned int *bytesused, long long *timestamp_us,
                                unsigned int *sequence, int *error_flag) {
    struct v4l2_buffer b;
    memset(&b, 0, sizeof b);
    b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    b.memory = V4L2_MEMORY_MMAP;
    int r = cv4l2_xioctl(fd, VIDIOC_DQBUF, &b);
    if (r != 0) return r;
    *index = b.index;
    *bytesused = b.bytesused;
    *timestamp_us = (long long)b.timestamp.tv_sec * 1000000LL + b.timestamp.tv_usec;
    *sequence = b.sequence;
    *error_flag = (b.flags & V4L2_BUF_FLAG_ERROR) != 0;
    return 0;
}

static inline int cv4l2_stream(int fd, int on) {
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    return cv4l2_xioctl(fd, on ? VIDIOC_STREAMON : VIDIOC_STREAMOFF, &type);
}

/// Waits for a frame: 1 ready, 0 timeout, -1 error (errno), -2 the device hung up or failed.
static inline int cv4l2_wait(int fd, int timeout_ms) {
    struct pollfd p = { .fd = fd, .events = POLLIN | POLLPRI };
    int r;
    do { r = poll(&p, 1, timeout_ms); } while (r == -1 && errno == EINTR);
    if (r <= 0) return r;
    if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) return (p.revents & POLLIN) ? 1 : -2;
    return 1;
}

static inline int cv4l2_get_control(int fd, unsigned int id, int *value) {
    struct v4l2_control c = { .id = id, .value = 0 };
    int r = cv4l2_xioctl(fd, VIDIOC_G_CTRL, &c);
    *value = c.value;
    return r;
}

static inline int cv4l2_set_control(int fd, unsigned int id, int value) {
    struct v4l2_control c = { .id = id, .value = value };
    return cv4l2_xioctl(fd, VIDIOC_S_CTRL, &c);
}

/// 0 when the control exists; *flags holds V4L2_CTRL_FLAG_* (disabled, inactive, read-only...).
static inline int cv4l2_query_control(int fd, unsigned int id, int *minimum, int *maximum, unsigned int *flags) {
    struct v4l2_queryctrl q;
    memset(&q, 0, sizeof q);
    q.id = id;
    int r = cv4l2_xioctl(fd, VIDIOC_QUERYCTRL, &q);
    *minimum = q.minimum; *maximum = q.maximum; *flags = q.flags;
    return r;
}

static const unsigned int CV4L2_CAP_VIDEO_CAPTURE = V4L2_CAP_VIDEO_CAPTURE;
static const unsigned int CV4L2_CAP_STREAMING = V4L2_CAP_STREAMING;
static const unsigned int CV4L2_FMT_FLAG_EMULATED = V4L2_FMT_FLAG_EMULATED;
static const unsigned int CV4L2_FMT_FLAG_COMPRESSED = V4L2_FMT_FLAG_COMPRESSED;
static const unsigned int CV4L2_CID_EXPOSURE_AUTO = V4L2_CID_EXPOSURE_AUTO;
static const int CV4L2_EXPOSURE_MANUAL = V4L2_EXPOSURE_MANUAL;
static const unsigned int CV4L2_CID_EXPOSURE_ABSOLUTE = V4L2_CID_EXPOSURE_ABSOLUTE;
static const unsigned int CV4L2_CID_AUTOGAIN = V4L2_CID_AUTOGAIN;
static const unsigned int CV4L2_CID_GAIN = V4L2_CID_GAIN;
static const unsigned int CV4L2_CID_POWER_LINE_FREQUENCY = V4L2_CID_POWER_LINE_FREQUENCY;
static const unsigned int CV4L2_CTRL_FLAG_DISABLED = V4L2_CTRL_FLAG_DISABLED;
static const unsigned int CV4L2_CTRL_FLAG_READ_ONLY = V4L2_CTRL_FLAG_READ_ONLY;
