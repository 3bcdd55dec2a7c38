/* radarflow: general file utilities, no HDF5 - checked path joins, file name
 * extensions, mkdir -p, whole-file reads, and atomic writes (temporary name
 * beside the target, fsync, rename, fsync of the folder). Every layer uses
 * these: the OpenCL kernel cache (host/), the product writers (io/), the
 * batch runner and quick looks (pipelines/). Failures set the message once,
 * naming the path. */
#ifndef RF_FILES_H
#define RF_FILES_H

#include "rf_common.h"

/* "<dir>/<name>" into out[len] (no doubled '/' when dir ends in one; dir ""
 * gives name). 0, or RF_EINVAL "<dir>/<name>: path too long" and out "". */
int rf_path_join(char *out, size_t len, const char *dir, const char *name);

/* The absolute form of path into out[len]: realpath when it exists (links
 * and "..": resolved), else the current folder joined with a relative path
 * as given; an absolute path that does not exist is copied. 0, or
 * RF_EINVAL "path too long" (out then holds path, cut). */
int rf_path_absolute(const char *path, char *out, size_t len);

/* 1 when path ends in ext (".h5"; case-insensitive) and is longer than it. */
int rf_has_ext(const char *path, const char *ext);

/* mkdir -p: creates dir and its parents (mode 0777 less umask). 0, or
 * RF_EIO / RF_EINVAL with a message naming the folder. */
int rf_mkdirs(const char *dir);

/* rm -rf of a path this program made (a temporary folder of its own; never
 * a user's path). 0, also when it is missing; -1 when something stayed. */
int rf_remove_tree(const char *path);

/* Whole file into *text (rf__malloc'd, NUL-terminated; free with rf__free),
 * its length in *len (may be NULL). Refuses files longer than limit bytes.
 * 0; RF_EFORMAT when it cannot be opened or read or is too long (message
 * names the file and the reason; errno kept from the failing call);
 * RF_ENOMEM. *text is NULL on failure. */
int rf_slurp(const char *path, size_t limit, char **text, size_t *len);

/* Temporary name beside path ("<path>.tmp.<pid>.<n>", unique within the
 * process), rf__malloc'd; NULL when out of memory. */
char *rf_tmp_path(const char *path);
/* fsyncs tmp, renames it to path and fsyncs the folder holding path (best
 * effort). On failure removes tmp and returns RF_EIO naming path. */
int rf_commit_tmp(const char *tmp, const char *path);
/* fsync of a folder, so renames in it are durable; best effort. */
void rf_fsync_dir(const char *dir);

/* Writes len bytes to path atomically (rf_tmp_path, write, rf_commit_tmp):
 * a reader sees the old file or the whole new one; on failure nothing is
 * left at the temporary name and path is unchanged. RF_EIO naming path. */
int rf_write_file_atomic(const char *path, const void *data, size_t len);

#endif
