/*
 * video_fixtures.c - test clips written with libavformat/libavcodec (see video_fixtures.h):
 * frames drawn in RGB, converted to the encoder's pixel format with libswscale, encoded and
 * muxed. Only encoders built into FFmpeg itself are used by the tests (mpeg4, mjpeg, ffv1), so
 * nothing beyond Debian's libavcodec is needed.
 */
#ifdef SENTINEL_HAVE_FFMPEG

#include "video_fixtures.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

static int fail(char *msg, size_t size, int averr, const char *fmt, ...) {
    char text[AV_ERROR_MAX_STRING_SIZE] = "";
    if (averr < 0) av_strerror(averr, text, sizeof text);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, size, fmt, ap);
    va_end(ap);
    if (averr < 0 && n >= 0 && (size_t)n < size) snprintf(msg + n, size - (size_t)n, ": %s", text);
    return -1;
}

void sn_test_video_pattern(int index, int width, int height, uint8_t *rgb) {
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) {
            int bit = (index >> (x * 8 / width)) & 1;
            uint8_t *p = rgb + ((size_t)y * (size_t)width + (size_t)x) * 3;
            p[0] = (uint8_t)(bit ? 200 + (x & 31) : 20 + (y & 31));
            p[1] = (uint8_t)(64 + ((x + 2 * y + 7 * index) & 127));
            p[2] = (uint8_t)(bit ? 20 + (y & 31) : 200 + (x & 31));
        }
}

int sn_test_video_read_index(const uint8_t *rgb, int width, int height) {
    int index = 0;
    for (int i = 0; i < 8; i++) {
        /* The middle half of the stripe, away from edges that lossy coding blurs. */
        int x0 = i * width / 8, x1 = (i + 1) * width / 8, w = x1 - x0;
        double red = 0, blue = 0;
        for (int y = 0; y < height; y++)
            for (int x = x0 + w / 4; x < x1 - w / 4; x++) {
                const uint8_t *p = rgb + ((size_t)y * (size_t)width + (size_t)x) * 3;
                red += p[0];
                blue += p[2];
            }
        if (red > blue) index |= 1 << i;
    }
    return index;
}

typedef struct writer {
    AVFormatContext *oc;
    AVCodecContext *c;
    AVStream *st;
    AVPacket *pkt;
} writer;

/* Sends a frame (NULL: flush) and writes every packet that comes out. */
static int encode(writer *w, AVFrame *f, char *msg, size_t size) {
    int ret = avcodec_send_frame(w->c, f);
    if (ret < 0) return fail(msg, size, ret, "avcodec_send_frame");
    for (;;) {
        ret = avcodec_receive_packet(w->c, w->pkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return 0;
        if (ret < 0) return fail(msg, size, ret, "avcodec_receive_packet");
        av_packet_rescale_ts(w->pkt, w->c->time_base, w->st->time_base);
        w->pkt->stream_index = w->st->index;
        ret = av_interleaved_write_frame(w->oc, w->pkt);
        if (ret < 0) return fail(msg, size, ret, "av_interleaved_write_frame");
    }
}

/* Output context, stream and packet for path; the encoder context c must be configured. */
static int open_writer(writer *w, const char *path, const AVCodec *codec, char *msg,
                       size_t size) {
    int ret = avformat_alloc_output_context2(&w->oc, NULL, NULL, path);
    if (ret < 0 || !w->oc) return fail(msg, size, ret, "avformat_alloc_output_context2(%s)", path);
    if (w->oc->oformat->flags & AVFMT_GLOBALHEADER) w->c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    ret = avcodec_open2(w->c, codec, NULL);
    if (ret < 0) return fail(msg, size, ret, "avcodec_open2(%s)", codec->name);
    w->st = avformat_new_stream(w->oc, NULL);
    if (!w->st) return fail(msg, size, 0, "avformat_new_stream failed");
    ret = avcodec_parameters_from_context(w->st->codecpar, w->c);
    if (ret < 0) return fail(msg, size, ret, "avcodec_parameters_from_context");
    w->st->time_base = w->c->time_base;
    w->st->avg_frame_rate = w->c->framerate;
    ret = avio_open(&w->oc->pb, path, AVIO_FLAG_WRITE);
    if (ret < 0) return fail(msg, size, ret, "avio_open(%s)", path);
    ret = avformat_write_header(w->oc, NULL);
    if (ret < 0) return fail(msg, size, ret, "avformat_write_header");
    w->pkt = av_packet_alloc();
    if (!w->pkt) return fail(msg, size, 0, "av_packet_alloc failed");
    return 0;
}

static int close_writer(writer *w, int ok, char *msg, size_t size) {
    int rc = ok ? 0 : -1;
    if (ok) {
        int ret = av_write_trailer(w->oc);
        if (ret < 0) rc = fail(msg, size, ret, "av_write_trailer");
    }
    if (w->oc && w->oc->pb) {
        int ret = avio_closep(&w->oc->pb);
        if (ret < 0 && rc == 0) rc = fail(msg, size, ret, "avio_closep");
    }
    av_packet_free(&w->pkt);
    avcodec_free_context(&w->c);
    avformat_free_context(w->oc);
    return rc;
}

int sn_test_video_write(const sn_test_video *s, char *msg, size_t size) {
    if (s->width < 16 || s->height < 2 || s->frames < 1 ||
        s->frames > SN_TEST_VIDEO_MAX_FRAMES || s->rate_num < 1 || s->rate_den < 1)
        return fail(msg, size, 0, "bad test video spec");
    enum AVPixelFormat pix = av_get_pix_fmt(s->pix_fmt);
    const AVCodec *codec = avcodec_find_encoder_by_name(s->codec);
    if (pix == AV_PIX_FMT_NONE) return fail(msg, size, 0, "unknown pixel format %s", s->pix_fmt);
    if (!codec) return fail(msg, size, 0, "this FFmpeg has no %s encoder", s->codec);

    writer w = {0};
    AVFrame *frame = NULL;
    struct SwsContext *sws = NULL;
    uint8_t *rgb = NULL;
    int ok = 0;
    w.c = avcodec_alloc_context3(codec);
    if (!w.c) {
        fail(msg, size, 0, "avcodec_alloc_context3 failed");
        goto done;
    }
    w.c->width = s->width;
    w.c->height = s->height;
    w.c->pix_fmt = pix;
    w.c->framerate = (AVRational){s->rate_num, s->rate_den};
    w.c->time_base = s->times ? (AVRational){1, 1000} : (AVRational){s->rate_den, s->rate_num};
    w.c->gop_size = 12;
    w.c->max_b_frames = 0;
    /* Fine quantisation, so the frame number's stripes come through a lossy codec clearly. */
    w.c->flags |= AV_CODEC_FLAG_QSCALE;
    w.c->global_quality = FF_QP2LAMBDA * 3;
    const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(pix);
    if (desc && strstr(desc->name, "yuvj")) w.c->color_range = AVCOL_RANGE_JPEG;
    if (open_writer(&w, s->path, codec, msg, size) != 0) goto done;

    frame = av_frame_alloc();
    rgb = malloc((size_t)s->width * (size_t)s->height * 3);
    sws = sws_getContext(s->width, s->height, AV_PIX_FMT_RGB24, s->width, s->height, pix,
                         SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, NULL, NULL, NULL);
    if (!frame || !rgb || !sws) {
        fail(msg, size, 0, "out of memory or no RGB24 -> %s conversion", s->pix_fmt);
        goto done;
    }
    frame->format = pix;
    frame->width = s->width;
    frame->height = s->height;
    int ret = av_frame_get_buffer(frame, 0);
    if (ret < 0) {
        fail(msg, size, ret, "av_frame_get_buffer");
        goto done;
    }
    for (int k = 0; k < s->frames; k++) {
        ret = av_frame_make_writable(frame);
        if (ret < 0) {
            fail(msg, size, ret, "av_frame_make_writable");
            goto done;
        }
        sn_test_video_pattern(k, s->width, s->height, rgb);
        const uint8_t *src[4] = {rgb, NULL, NULL, NULL};
        int src_stride[4] = {s->width * 3, 0, 0, 0};
        if (sws_scale(sws, src, src_stride, 0, s->height, frame->data, frame->linesize) !=
            s->height) {
            fail(msg, size, 0, "sws_scale to %s failed", s->pix_fmt);
            goto done;
        }
        frame->pts = s->times ? llround(s->times[k] * 1000.0) : k;
        if (encode(&w, frame, msg, size) != 0) goto done;
    }
    if (encode(&w, NULL, msg, size) != 0) goto done;
    ok = 1;
done:
    sws_freeContext(sws);
    free(rgb);
    av_frame_free(&frame);
    return close_writer(&w, ok, msg, size);
}

int sn_test_audio_write(const char *path, double seconds, char *msg, size_t size) {
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_PCM_S16LE);
    if (!codec) return fail(msg, size, 0, "no pcm_s16le encoder");
    writer w = {0};
    AVFrame *frame = NULL;
    int ok = 0, rate = 8000;
    w.c = avcodec_alloc_context3(codec);
    if (!w.c) {
        fail(msg, size, 0, "avcodec_alloc_context3 failed");
        goto done;
    }
    w.c->sample_fmt = AV_SAMPLE_FMT_S16;
    w.c->sample_rate = rate;
    w.c->time_base = (AVRational){1, rate};
    av_channel_layout_default(&w.c->ch_layout, 1);
    if (open_writer(&w, path, codec, msg, size) != 0) goto done;
    frame = av_frame_alloc();
    if (!frame) {
        fail(msg, size, 0, "av_frame_alloc failed");
        goto done;
    }
    int total = (int)(seconds * rate), chunk = 1024;
    for (int at = 0; at < total; at += chunk) {
        av_frame_unref(frame);
        frame->format = AV_SAMPLE_FMT_S16;
        frame->sample_rate = rate;
        frame->nb_samples = total - at < chunk ? total - at : chunk;
        int ret = av_channel_layout_copy(&frame->ch_layout, &w.c->ch_layout);
        if (ret >= 0) ret = av_frame_get_buffer(frame, 0);
        if (ret < 0) {
            fail(msg, size, ret, "av_frame_get_buffer");
            goto done;
        }
        int16_t *pcm = (int16_t *)frame->data[0];
        for (int i = 0; i < frame->nb_samples; i++)
            pcm[i] = (int16_t)(8000.0 * sin(2 * M_PI * 440.0 * (at + i) / rate));
        frame->pts = at;
        if (encode(&w, frame, msg, size) != 0) goto done;
    }
    if (encode(&w, NULL, msg, size) != 0) goto done;
    ok = 1;
done:
    av_frame_free(&frame);
    return close_writer(&w, ok, msg, size);
}

#endif
