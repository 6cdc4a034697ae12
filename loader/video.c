/*
 * video.c - opening a video file, stream or V4L2 camera with FFmpeg's libraries: options,
 * the demuxer and decoder set-up, information and teardown. Reading and decoding frames is in
 * video_decode.c. See video.h.
 */
#ifdef SENTINEL_HAVE_FFMPEG

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavdevice/avdevice.h>
#include <libavutil/error.h>
#include <libavutil/log.h>

#include "error.h"
#include "video_impl.h"

sn_status sn__video_av_error(sn_error *err, int averr, const char *what, const char *call) {
    char text[AV_ERROR_MAX_STRING_SIZE];
    if (av_strerror(averr, text, sizeof text) < 0)
        snprintf(text, sizeof text, "FFmpeg error %d", averr);
    sn_status s = SN_ERR_IO;
    if (averr == AVERROR(ENOMEM))
        s = SN_ERR_OUT_OF_MEMORY;
    else if (averr == AVERROR_INVALIDDATA || averr == AVERROR_EOF || averr == AVERROR_BUG)
        s = SN_ERR_FORMAT;
    else if (averr == AVERROR_DECODER_NOT_FOUND || averr == AVERROR_DEMUXER_NOT_FOUND ||
             averr == AVERROR_PROTOCOL_NOT_FOUND || averr == AVERROR_PATCHWELCOME ||
             averr == AVERROR(ENOSYS))
        s = SN_ERR_UNSUPPORTED;
    return sn_errorf(err, s, "%s: %s: %s", what, call, text);
}

int sn__video_interrupted(const sn_video *v) {
    return v->opt.interrupt && v->opt.interrupt(v->opt.interrupt_opaque);
}

/* FFmpeg polls this during blocking I/O (files, pipes, network) and gives up when it is 1. */
static int sn__video_interrupt_cb(void *opaque) {
    return sn__video_interrupted(opaque);
}

static pthread_once_t sn__avdevice_once = PTHREAD_ONCE_INIT;

static void sn__avdevice_register(void) {
    avdevice_register_all();
}

void sn_video_set_ffmpeg_log(int verbose) {
    av_log_set_level(verbose ? AV_LOG_WARNING : AV_LOG_QUIET);
}

int sn_video_supported(void) {
    return 1;
}

/* Copy the fields a caller's (possibly older, smaller) options struct has, and check them. */
static sn_status sn__video_options(const sn_video_options *in, sn_video_options *o,
                                   sn_error *err) {
    const sn_video_options defaults = SN_VIDEO_OPTIONS_INIT;
    *o = defaults;
    if (in) {
        if (in->size < sizeof in->size)
            return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                             "video options: size is %zu; initialise them with "
                             "SN_VIDEO_OPTIONS_INIT",
                             in->size);
#define SN__TAKE(field)                                                                         \
    if (in->size >= offsetof(sn_video_options, field) + sizeof in->field) o->field = in->field
        SN__TAKE(every);
        SN__TAKE(fps);
        SN__TAKE(max_pixels);
        SN__TAKE(source);
        SN__TAKE(threads);
        SN__TAKE(interrupt);
        SN__TAKE(interrupt_opaque);
#undef SN__TAKE
    }
    if (o->every < 1)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "video options: every is %lld; it must be at least 1 (1: every frame)",
                         (long long)o->every);
    if (!isfinite(o->fps) || o->fps < 0)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "video options: fps is %g; it must be a finite number >= 0 (0: no limit)",
                         o->fps);
    if (o->every > 1 && o->fps > 0)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "video options: every (%lld) and fps (%g) cannot both select frames",
                         (long long)o->every, o->fps);
    if (o->source != SN_VIDEO_SOURCE_AUTO && o->source != SN_VIDEO_SOURCE_FILE &&
        o->source != SN_VIDEO_SOURCE_CAMERA)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "video options: unknown source %d (0 auto, 1 file, 2 camera)",
                         (int)o->source);
    if (o->threads < 0 || o->threads > 256)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "video options: threads is %d; it must be 0 (automatic) to 256",
                         o->threads);
    if (o->max_pixels == 0) o->max_pixels = SN_IMAGE_DEFAULT_MAX_PIXELS;
    return SN_OK;
}

/* The demuxer: a V4L2 device through libavdevice, or whatever probing finds in a file. */
static sn_status sn__video_open_input(sn_video *v, const char *path, int camera,
                                      sn_error *err) {
    const AVInputFormat *ifmt = NULL;
    if (camera) {
        pthread_once(&sn__avdevice_once, sn__avdevice_register);
        ifmt = av_find_input_format("video4linux2");
        if (!ifmt)
            return sn_errorf(err, SN_ERR_UNSUPPORTED,
                             "cannot open the camera: this FFmpeg (libavdevice) has no V4L2 input");
    }
    v->fmt = avformat_alloc_context();
    if (!v->fmt)
        return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "cannot open: avformat_alloc_context failed");
    v->fmt->interrupt_callback.callback = sn__video_interrupt_cb;
    v->fmt->interrupt_callback.opaque = v;
    /* FFmpeg's blocking V4L2 read retries on EINTR, so only a non-blocking device can be
     * interrupted; video_decode.c waits for frames itself, checking the flag. */
    if (camera) v->fmt->flags |= AVFMT_FLAG_NONBLOCK;
    int ret = avformat_open_input(&v->fmt, path, ifmt, NULL); /* frees fmt on failure */
    if (ret < 0) {
        if (sn__video_interrupted(v))
            return sn_errorf(err, SN_ERR_IO, "interrupted while opening");
        return sn__video_av_error(err, ret, camera ? "cannot open the camera" : "cannot open",
                                  camera ? "avformat_open_input(video4linux2)"
                                         : "avformat_open_input");
    }
    /* A camera's header already gives the codec, size and rate; probing it would read frames
     * in a busy loop (the device is non-blocking). Files need probing for codec parameters. */
    if (!camera) {
        ret = avformat_find_stream_info(v->fmt, NULL);
        if (ret < 0) {
            if (sn__video_interrupted(v))
                return sn_errorf(err, SN_ERR_IO, "interrupted while reading stream information");
            return sn__video_av_error(err, ret, "cannot read the stream information",
                                      "avformat_find_stream_info");
        }
    }
    return SN_OK;
}

/* Names what the container holds instead of video, e.g. "1 audio stream". */
static void sn__video_describe_streams(const AVFormatContext *fmt, char *buf, size_t size) {
    int counts[AVMEDIA_TYPE_NB] = {0};
    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        int t = fmt->streams[i]->codecpar->codec_type;
        if (t >= 0 && t < AVMEDIA_TYPE_NB) counts[t]++;
    }
    size_t len = 0;
    buf[0] = '\0';
    for (int t = 0; t < AVMEDIA_TYPE_NB; t++) {
        if (!counts[t] || len >= size) continue;
        const char *name = av_get_media_type_string((enum AVMediaType)t);
        len += (size_t)snprintf(buf + len, size - len, "%s%d %s stream%s", len ? ", " : "",
                                counts[t], name ? name : "other", counts[t] > 1 ? "s" : "");
    }
    if (!buf[0]) snprintf(buf, size, "no streams");
}

/* Pick the video stream and open its decoder. */
static sn_status sn__video_open_decoder(sn_video *v, sn_error *err) {
    const AVCodec *codec = NULL;
    int idx = av_find_best_stream(v->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (idx == AVERROR_STREAM_NOT_FOUND) {
        char what[256];
        sn__video_describe_streams(v->fmt, what, sizeof what);
        return sn_errorf(err, SN_ERR_UNSUPPORTED, "no video stream (the %s input holds %s)",
                         v->fmt->iformat->name, what);
    }
    if (idx == AVERROR_DECODER_NOT_FOUND) {
        /* av_find_best_stream does not say which stream; the first video one is it. */
        const char *name = "unknown";
        for (unsigned i = 0; i < v->fmt->nb_streams; i++)
            if (v->fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
                name = avcodec_get_name(v->fmt->streams[i]->codecpar->codec_id);
                break;
            }
        return sn_errorf(err, SN_ERR_UNSUPPORTED,
                         "this FFmpeg has no decoder for the video codec '%s'", name);
    }
    if (idx < 0)
        return sn__video_av_error(err, idx, "no usable video stream", "av_find_best_stream");
    v->st = v->fmt->streams[idx];
    /* Only this stream is demuxed into packets; the others are dropped at the source. */
    for (unsigned i = 0; i < v->fmt->nb_streams; i++)
        if ((int)i != idx) v->fmt->streams[i]->discard = AVDISCARD_ALL;

    const AVCodecParameters *par = v->st->codecpar;
    if (par->width < 0 || par->height < 0 ||
        (uint64_t)par->width * (uint64_t)par->height > v->opt.max_pixels)
        return sn_errorf(err, SN_ERR_OUT_OF_MEMORY,
                         "the video is %dx%d, over the limit of %llu pixels", par->width,
                         par->height, (unsigned long long)v->opt.max_pixels);

    v->dec = avcodec_alloc_context3(codec);
    if (!v->dec) return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "avcodec_alloc_context3 failed");
    int ret = avcodec_parameters_to_context(v->dec, par);
    if (ret < 0)
        return sn__video_av_error(err, ret, "cannot set up the decoder",
                                  "avcodec_parameters_to_context");
    v->dec->pkt_timebase = v->st->time_base;
    v->dec->thread_count = v->opt.threads;
    ret = avcodec_open2(v->dec, codec, NULL);
    if (ret < 0)
        return sn__video_av_error(err, ret, "cannot open the decoder", "avcodec_open2");
    return SN_OK;
}

static void sn__video_fill_info(sn_video *v, int camera) {
    sn_video_info *in = &v->info;
    in->camera = camera;
    in->width = v->st->codecpar->width;
    in->height = v->st->codecpar->height;
    AVRational rate = v->st->avg_frame_rate;
    if (rate.num <= 0 || rate.den <= 0) rate = v->st->r_frame_rate;
    in->frame_rate = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0.0;
    v->frame_period = in->frame_rate > 0 ? 1.0 / in->frame_rate : 0.0;
    in->duration = -1.0;
    if (v->st->duration != AV_NOPTS_VALUE && v->st->duration > 0)
        in->duration = (double)v->st->duration * av_q2d(v->st->time_base);
    else if (v->fmt->duration != AV_NOPTS_VALUE && v->fmt->duration > 0)
        in->duration = (double)v->fmt->duration / AV_TIME_BASE;
    snprintf(in->container, sizeof in->container, "%s", v->fmt->iformat->name);
    snprintf(in->codec, sizeof in->codec, "%s", v->dec->codec->name);
}

sn_status sn_video_open(const char *path, const sn_video_options *opt, sn_video **out,
                        sn_error *err) {
    if (!out) return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "no place for the video handle");
    *out = NULL;
    if (!path || !path[0]) return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "no video path");
    sn_video *v = calloc(1, sizeof *v);
    if (!v) return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory");
    sn_status s = sn__video_options(opt, &v->opt, err);
    if (s != SN_OK) goto fail;
    int camera = v->opt.source == SN_VIDEO_SOURCE_CAMERA ||
                 (v->opt.source == SN_VIDEO_SOURCE_AUTO && !strncmp(path, "/dev/video", 10));
    if ((s = sn__video_open_input(v, path, camera, err)) != SN_OK ||
        (s = sn__video_open_decoder(v, err)) != SN_OK)
        goto fail;
    v->pkt = av_packet_alloc();
    v->frame = av_frame_alloc();
    if (!v->pkt || !v->frame) {
        s = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "av_packet_alloc/av_frame_alloc failed");
        goto fail;
    }
    v->start_pts = v->st->start_time; /* AV_NOPTS_VALUE for cameras: the first frame's */
    sn__video_fill_info(v, camera);
    *out = v;
    return SN_OK;

fail:
    sn_video_destroy(v);
    return s;
}

void sn_video_get_info(const sn_video *v, sn_video_info *out) {
    if (!out) return;
    if (!v) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = v->info;
}

void sn_video_frame_free(sn_video_frame *f) {
    if (f) sn_image_free(&f->image);
}

void sn_video_destroy(sn_video *v) {
    if (!v) return;
    sws_freeContext(v->sws);
    av_frame_free(&v->frame);
    av_packet_free(&v->pkt);
    avcodec_free_context(&v->dec);
    avformat_close_input(&v->fmt);
    free(v);
}

#endif
