/*
 * image_orient.c - EXIF orientation: reading the tag (libexif) and turning decoded pixels
 * upright (see image.h).
 *
 * Cameras store the sensor's rows as they come and record how the camera was held in the
 * Orientation tag (0x0112) of IFD0. Its value says where the stored first row and first column
 * belong in the upright picture (EXIF 2.32, 4.6.4 A):
 *
 *   1  row 0 at the top,    column 0 at the left     (as stored)
 *   2  row 0 at the top,    column 0 at the right    (mirrored left-right)
 *   3  row 0 at the bottom, column 0 at the right    (turned 180 degrees)
 *   4  row 0 at the bottom, column 0 at the left     (mirrored top-bottom)
 *   5  row 0 at the left,   column 0 at the top      (transposed)
 *   6  row 0 at the right,  column 0 at the top      (turned 90 degrees clockwise to view)
 *   7  row 0 at the right,  column 0 at the bottom   (transversed)
 *   8  row 0 at the left,   column 0 at the bottom   (turned 90 degrees counter-clockwise)
 *
 * libexif parses the TIFF structure inside the APP1 segment with its own bounds checks. Its
 * "follow the specification" option, on by default, would add and rewrite tags; we only read,
 * so it is turned off. A missing, malformed or out-of-range tag means "as stored", as every
 * viewer treats it: a photo is not refused for its metadata.
 */
#include <stdlib.h>
#include <string.h>

#include <libexif/exif-data.h>

#include "error.h"
#include "image.h"

int sn__exif_orientation(const uint8_t *app1, size_t size) {
    if (!app1 || size < 6 || size > 0xffff) return 1;
    ExifData *ed = exif_data_new();
    if (!ed) return 1;
    exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_load_data(ed, app1, (unsigned int)size);
    int orientation = 1;
    ExifEntry *e = ed->ifd[EXIF_IFD_0]
                       ? exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION)
                       : NULL;
    if (e && e->data && e->format == EXIF_FORMAT_SHORT && e->components >= 1 && e->size >= 2) {
        int v = exif_get_short(e->data, exif_data_get_byte_order(ed));
        if (v >= 1 && v <= 8) orientation = v;
    }
    exif_data_unref(ed);
    return orientation;
}

sn_status sn__image_orient(sn_image *img, int orientation, sn_error *err) {
    if (orientation < 2 || orientation > 8) return SN_OK;
    int w = img->width, h = img->height;
    int swap = orientation >= 5;
    int uw = swap ? h : w, uh = swap ? w : h; /* the upright size */
    uint8_t *dst = malloc((size_t)w * h * 3);
    if (!dst)
        return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory turning a %dx%d image", w, h);
    const uint8_t *src = img->pixels;
    /* For each upright pixel (x, y), the stored pixel (sx, sy) it comes from: the table above
     * read backwards. */
    for (int y = 0; y < uh; y++) {
        uint8_t *d = dst + (size_t)y * uw * 3;
        for (int x = 0; x < uw; x++, d += 3) {
            int sx, sy;
            switch (orientation) {
            case 2: sx = w - 1 - x, sy = y; break;
            case 3: sx = w - 1 - x, sy = h - 1 - y; break;
            case 4: sx = x, sy = h - 1 - y; break;
            case 5: sx = y, sy = x; break;
            case 6: sx = y, sy = h - 1 - x; break;
            case 7: sx = w - 1 - y, sy = h - 1 - x; break;
            default: sx = w - 1 - y, sy = x; break; /* 8 */
            }
            const uint8_t *s = src + ((size_t)sy * w + sx) * 3;
            d[0] = s[0];
            d[1] = s[1];
            d[2] = s[2];
        }
    }
    free(img->pixels);
    img->pixels = dst;
    img->width = uw;
    img->height = uh;
    if (swap) {
        int t = img->full_width;
        img->full_width = img->full_height;
        img->full_height = t;
    }
    img->orientation = orientation;
    return SN_OK;
}
