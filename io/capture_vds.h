/* radarflow io/: the capture reader's direct read of a virtual /iq (see
 * capture_vds.c for why and when). Includes hdf5.h: io/ only. */
#ifndef RF_CAPTURE_VDS_H
#define RF_CAPTURE_VDS_H

#include <hdf5.h>

#include "../host/rf_common.h"

typedef struct rf__vds rf__vds;

/* 1 (default): the reader reads a virtual /iq of the import's form
 * directly; 0: always through HDF5 (tests compare the two). */
extern int rf__vds_fast_enabled;

/* For the open /iq of `file` (the capture at `path`, borrowed for the
 * plan's life): *v is a plan, or NULL when /iq is not virtual or not of
 * the form read directly (HDF5 reads it then). RF_ENOMEM only. */
int rf__vds_create(rf__vds **v, hid_t file, hid_t iq, const char *path);
/* Reads pulses [first, first + count) into raw ([count][channels][samples][2]
 * of mtype), as rf_capture_read_pulses. */
int rf__vds_read(rf__vds *v, size_t first, size_t count, size_t channels, size_t samples, hid_t mtype,
                 void *raw);
void rf__vds_destroy(rf__vds *v); /* NULL is a no-op */

#endif
