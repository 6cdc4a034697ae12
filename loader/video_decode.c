/*
 * video_decode.c - reading frames from an open sn_video: the demux/decode loop of FFmpeg's
 * send/receive API, the frame index and timestamp, every/fps selection and the conversion of
 * the kept frames to packed RGB24 with libswscale. See video.h for the behaviour.
 *
 * Timestamps are best_effort_timestamp * time_base, counted from the stream's start_time (for
 * a camera, whose timestamps are wall-clock, from its first frame). A frame without one gets an
 * estimate, flagged: the previous frame's time plus this frame's duration, else one frame
 * period of the stream's rate, else 1/25 s (the rate FFmpeg itself assumes for raw streams).
 */
#ifdef SENTINEL_HAVE_FFMPEG

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libavutil/pixdesc.h>

#include "error.h"
#include "video_impl.h"

/* Unchanged decoder errors in a row after which the stream is declared broken, so that a
 * decoder stuck in an error state cannot spin forever. */
#define SN__VIDEO_MAX_ERRORS_IN_A_ROW 1000

/* How long to wait between polls of a non-blocking device with no frame ready: short enough
 * that an interrupt is seen at once, long enough not to spin a core. */
#define SN__VIDEO_POLL_NS 5000000L

static void sn__video_count_error(sn_video *v, int averr, const char *call) {
    sn_error e;
    char what[64];
    snprintf(what, sizeof what, "after %lld frames", (long long)v->info.decoded);
    sn__video_av_error(&e, averr, what, call);
    v->info.decode_errors++;
    /* Truncation is fine: the start of the message names the frame and the call. */
    size_t n = strnlen(e.message, sizeof v->info.last_decode_error - 1);
    memcpy(v->info.last_decode_error, e.message, n);
    v->info.last_decode_error[n] = '\0';
}

static double sn__video_frame_duration(const sn_video *v, const AVFrame *f) {
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(57, 30, 100)
    int64_t d = f->duration;
#else
    int64_t d = f->pkt_duration;
#endif
    if (d > 0) return (double)d * av_q2d(v->st->time_base);
    return v->frame_period > 0 ? v->frame_period : 1.0 / 25.0;
}

static void sn__video_timestamp(sn_video *v, const AVFrame *f, int64_t index, double *ts,
                                int *estimated) {
    int64_t pts = f->best_effort_timestamp;
    if (pts != AV_NOPTS_VALUE) {
        if (v->start_pts == AV_NOPTS_VALUE) v->start_pts = pts;
        *ts = (double)(pts - v->start_pts) * av_q2d(v->st->time_base);
        *estimated = 0;
    } else {
        double period = v->frame_period > 0 ? v->frame_period : 1.0 / 25.0;
        *ts = v->have_last_ts ? v->last_ts + sn__video_frame_duration(v, f)
                              : (double)index * period;
        *estimated = 1;
    }
    v->last_ts = *ts;
    v->have_last_ts = 1;
}

/* every: by index. fps: time is cut into slots of 1/fps seconds and the first frame in each is
 * kept; a jump back of over a second (a discontinuity) starts the slots afresh. */
static int sn__video_select(sn_video *v, int64_t index, double ts) {
    if (v->opt.fps > 0) {
        /* The epsilon absorbs rounding in ts*fps, e.g. 0.3 s * 10 = 2.9999999999999996. */
        int64_t slot = (int64_t)floor(ts * v->opt.fps + 1e-6);
        int keep = !v->have_slot || slot > v->last_slot ||
                   (double)slot < (double)v->last_slot - v->opt.fps;
        if (keep) {
            v->last_slot = slot;
            v->have_slot = 1;
        }
        return keep;
    }
    return index % v->opt.every == 0;
}

static int sn__video_full_range(const AVFrame *f) {
    switch (f->format) {
    case AV_PIX_FMT_YUVJ420P:
    case AV_PIX_FMT_YUVJ422P:
    case AV_PIX_FMT_YUVJ444P:
    case AV_PIX_FMT_YUVJ440P:
    case AV_PIX_FMT_YUVJ411P: return 1;
    default: return f->color_range == AVCOL_RANGE_JPEG;
    }
}

/* Converts the decoded frame to packed RGB24 in a new buffer owned by out. */
static sn_status sn__video_convert(sn_video *v, const AVFrame *f, sn_video_frame *out,
                                   sn_error *err) {
    int w = f->width, h = f->height;
    const char *fmt_name = av_get_pix_fmt_name((enum AVPixelFormat)f->format);
    struct SwsContext *sws = sws_getCachedContext(
        v->sws, w, h, (enum AVPixelFormat)f->format, w, h, AV_PIX_FMT_RGB24,
        SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, NULL, NULL, NULL);
    if (!sws)
        return sn_errorf(err, SN_ERR_UNSUPPORTED,
                         "frame %lld: cannot convert pixel format %s (%dx%d) to RGB: "
                         "sws_getCachedContext failed",
                         (long long)out->index, fmt_name ? fmt_name : "unknown", w, h);
    v->sws = sws;
    /* YUV sources: the frame's own matrix (BT.601 when unspecified) and range, which swscale
     * does not take from the frame by itself. */
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get((enum AVPixelFormat)f->format);
    if (d && !(d->flags & AV_PIX_FMT_FLAG_RGB) && d->nb_components >= 3) {
        int space = f->colorspace == AVCOL_SPC_UNSPECIFIED ? SWS_CS_DEFAULT : (int)f->colorspace;
        if (sws_setColorspaceDetails(sws, sws_getCoefficients(space), sn__video_full_range(f),
                                     sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16,
                                     1 << 16) < 0)
            return sn_errorf(err, SN_ERR_UNSUPPORTED,
                             "frame %lld: sws_setColorspaceDetails refused %s (colour space %d)",
                             (long long)out->index, fmt_name ? fmt_name : "unknown", space);
    }
    size_t bytes = (size_t)w * (size_t)h * 3;
    /* A little slack: swscale's SIMD paths may store a few bytes past the last row. */
    uint8_t *rgb = malloc(bytes + 64);
    if (!rgb)
        return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory for a %dx%d frame", w, h);
    uint8_t *dst[4] = {rgb, NULL, NULL, NULL};
    int dst_stride[4] = {w * 3, 0, 0, 0};
    int rows = sws_scale(sws, (const uint8_t *const *)f->data, f->linesize, 0, h, dst,
                         dst_stride);
    if (rows != h) {
        free(rgb);
        return sn_errorf(err, SN_ERR_INTERNAL, "frame %lld: sws_scale converted %d of %d rows",
                         (long long)out->index, rows, h);
    }
    out->image.width = out->image.full_width = w;
    out->image.height = out->image.full_height = h;
    out->image.pixels = rgb;
    out->image.scale_num = 8; /* in full, as stored: what image.h's fields say for that */
    out->image.orientation = 1;
    return SN_OK;
}

/* A decoded frame: number it, time it, select it, and convert it when kept. */
static sn_status sn__video_take(sn_video *v, const AVFrame *f, sn_video_frame *out, int *kept,
                                sn_error *err) {
    *kept = 0;
    int64_t index = v->info.decoded++;
    double ts;
    int estimated;
    sn__video_timestamp(v, f, index, &ts, &estimated);
    if (f->width <= 0 || f->height <= 0 || f->format < 0) {
        v->info.decode_errors++;
        snprintf(v->info.last_decode_error, sizeof v->info.last_decode_error,
                 "frame %lld: the decoder returned an empty frame", (long long)index);
        return SN_OK;
    }
    if ((uint64_t)f->width * (uint64_t)f->height > v->opt.max_pixels)
        return sn_errorf(err, SN_ERR_OUT_OF_MEMORY,
                         "frame %lld is %dx%d, over the limit of %llu pixels", (long long)index,
                         f->width, f->height, (unsigned long long)v->opt.max_pixels);
    if (!sn__video_select(v, index, ts)) return SN_OK;
    out->index = index;
    out->timestamp = ts;
    out->timestamp_estimated = estimated;
    sn_status s = sn__video_convert(v, f, out, err);
    if (s != SN_OK) return s;
    out->end = 0;
    v->info.returned++;
    *kept = 1;
    return SN_OK;
}

/* The end: a read error held back while the decoder was drained, else a clean end. */
static sn_status sn__video_finish(sn_video *v, sn_error *err) {
    v->finished = 1;
    if (v->read_error.status != SN_OK) {
        sn_errorf(err, v->read_error.status, "%s", v->read_error.message);
        return v->read_error.status;
    }
    return SN_OK;
}

static void sn__video_nap(void) {
    struct timespec t = {0, SN__VIDEO_POLL_NS};
    nanosleep(&t, NULL);
}

/* Feeds the decoder one packet of our stream (or its flush at the end of input). Returns
 * SN_OK when it made progress or should be called again, and a status for a fatal error. */
static sn_status sn__video_feed(sn_video *v, sn_error *err) {
    int ret;
    if (!v->pkt_pending) {
        ret = av_read_frame(v->fmt, v->pkt);
        if (ret == AVERROR(EAGAIN)) { /* a non-blocking camera with no frame ready yet */
            sn__video_nap();
            return SN_OK;
        }
        if (ret < 0) {
            if (sn__video_interrupted(v)) return SN_OK; /* the caller's loop ends the stream */
            if (ret != AVERROR_EOF) {
                char what[64];
                snprintf(what, sizeof what, "reading stopped after %lld frames",
                         (long long)v->info.decoded);
                sn__video_av_error(&v->read_error, ret, what, "av_read_frame");
            }
            ret = avcodec_send_packet(v->dec, NULL);
            if (ret < 0 && ret != AVERROR_EOF)
                return sn__video_av_error(err, ret, "cannot flush the decoder",
                                          "avcodec_send_packet");
            v->draining = 1;
            return SN_OK;
        }
        if (v->pkt->stream_index != v->st->index) {
            av_packet_unref(v->pkt);
            return SN_OK;
        }
    }
    ret = avcodec_send_packet(v->dec, v->pkt);
    if (ret == AVERROR(EAGAIN)) { /* frames must be received first; keep the packet */
        v->pkt_pending = 1;
        return SN_OK;
    }
    v->pkt_pending = 0;
    av_packet_unref(v->pkt);
    if (ret == AVERROR(ENOMEM))
        return sn__video_av_error(err, ret, "decoding", "avcodec_send_packet");
    if (ret < 0) sn__video_count_error(v, ret, "avcodec_send_packet");
    return SN_OK;
}

sn_status sn_video_next(sn_video *v, sn_video_frame *out, sn_error *err) {
    if (!out) return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "no frame to fill");
    memset(out, 0, sizeof *out);
    out->end = 1;
    if (!v) return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "no video");
    int errors_in_a_row = 0;
    while (!v->finished) {
        if (sn__video_interrupted(v)) {
            v->info.interrupted = 1;
            v->finished = 1;
            break;
        }
        int ret = avcodec_receive_frame(v->dec, v->frame);
        if (ret == 0) {
            int kept;
            sn_status s = sn__video_take(v, v->frame, out, &kept, err);
            av_frame_unref(v->frame);
            if (s != SN_OK) {
                v->finished = 1;
                return s;
            }
            if (kept) return SN_OK;
            continue;
        }
        if (ret == AVERROR_EOF) return sn__video_finish(v, err);
        if (ret != AVERROR(EAGAIN)) {
            if (ret == AVERROR(ENOMEM) || ++errors_in_a_row > SN__VIDEO_MAX_ERRORS_IN_A_ROW) {
                v->finished = 1;
                return sn__video_av_error(err, ret, "decoding", "avcodec_receive_frame");
            }
            sn__video_count_error(v, ret, "avcodec_receive_frame");
            continue;
        }
        /* The decoder needs input. Once drained it should only say EOF; anything else ends. */
        if (v->draining) return sn__video_finish(v, err);
        sn_status s = sn__video_feed(v, err);
        if (s != SN_OK) {
            v->finished = 1;
            return s;
        }
        errors_in_a_row = 0; /* input was consumed, so the errors above were progress */
    }
    return SN_OK;
}

#endif
