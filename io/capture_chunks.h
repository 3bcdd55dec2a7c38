/* radarflow io/: the capture reader's direct read of a chunked /iq (see
 * capture_chunks.c for why and when). Includes hdf5.h: io/ only. */
#ifndef RF_CAPTURE_CHUNKS_H
#define RF_CAPTURE_CHUNKS_H

#include <hdf5.h>

#include "../host/rf_common.h"

typedef struct rf__chunks rf__chunks;

/* 1 (default): the reader reads the chunks of a chunked /iq directly; 0:
 * always through HDF5 (tests compare the two). */
extern int rf__chunks_direct_enabled;

/* For the open /iq of `file` (the capture at `path`, borrowed for the
 * plan's life), whose samples are of the native type mtype and whose pulses
 * are pulse_bytes each: *x is a plan, or NULL when /iq is not read this way
 * (HDF5 reads it then). RF_ENOMEM only. */
int rf__chunks_create(rf__chunks **x, hid_t file, hid_t iq, hid_t mtype, size_t pulses, size_t pulse_bytes,
                      const char *path);
/* Checks pulses [first, first + n) of a read (data: their samples) and
 * returns 0 or a status with the message set. */
typedef int (*rf__chunks_check)(void *ctx, size_t first, size_t n, const void *data);
/* Reads pulses [first, first + count) into raw ([count][pulse_bytes]), as
 * rf_capture_read_pulses does, calling check (if not NULL) on every part
 * right after it is read. A Fletcher-32 mismatch is RF_EFORMAT naming the
 * file and the pulses. */
int rf__chunks_read(rf__chunks *x, size_t first, size_t count, void *raw, rf__chunks_check check, void *ctx);
void rf__chunks_destroy(rf__chunks *x); /* NULL is a no-op */

/* HDF5's Fletcher-32 (H5_checksum_fletcher32, what its filter stores) of
 * `bytes` bytes: the same value, computed on 16 words at a time. */
uint32_t rf__fletcher32(const void *data, size_t bytes);

#endif
