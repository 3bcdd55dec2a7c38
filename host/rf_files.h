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

/* rm -rf of a path this program made (a temporary folder of its own, or an
 * entry a product marker lists; never a user's path). 0, also when it is
 * missing; -1 when something stayed. */
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

/* Early write-back of a file being streamed: note each write's bytes, and
 * once RF_WRITEBACK_BYTES more were written the kernel is asked to start
 * writing the file's dirty pages out (sync_file_range, a hint that never
 * waits). The disk then works while the run goes on, and the fsync of
 * rf_commit_tmp (which alone makes the file durable) finds little left.
 * The pages written out by then (the file up to the previous note) leave
 * the page cache (posix_fadvise DONTNEED, which skips pages not yet
 * written): a run's products, often gigabytes, do not push other files
 * out of memory, and later writes reuse the pages just freed. */
#define RF_WRITEBACK_BYTES ((size_t)8 << 20)
typedef struct rf_writeback {
  int fd;               /* < 0: nothing to do */
  size_t total, behind; /* bytes noted in all; total at the previous write-back */
} rf_writeback;
void rf_writeback_note(rf_writeback *w, size_t bytes);

/* Writes all len bytes to fd (retrying short writes and EINTR); -1 with
 * errno on failure (EIO for a write of 0 bytes). */
int rf_write_all(int fd, const void *data, size_t len);

/* Writes len bytes to path atomically (rf_tmp_path, write, rf_commit_tmp):
 * a reader sees the old file or the whole new one; on failure nothing is
 * left at the temporary name and path is unchanged. RF_EIO naming path. */
int rf_write_file_atomic(const char *path, const void *data, size_t len);

/* ---- product sets (host/outdir.c, docs/reliability.md) ----------------------------
 * A product folder carries RF_PRODUCTS_MARKER: JSON {"program":
 * "radarflow", "state": "writing"|"complete", "files": [entries]} listing
 * every entry radarflow wrote in it, a file as "name" or "sub/name", a
 * folder as "sub/" (removed only once empty). Only listed entries are ever removed;
 * a folder without a marker is radarflow's only when its run.json says
 * "program": "radarflow" (a folder written before markers) and then only
 * product names count as its own. */
#define RF_PRODUCTS_MARKER ".radarflow-products"

/* Whether dir can take a new product set: absent or an empty folder
 * (*is_empty = 1), or a radarflow product folder holding nothing radarflow
 * did not write. RF_EINVAL naming dir and the first foreign entry
 * otherwise (a file, an unmarked non-empty folder). */
int rf_products_check(const char *dir, int *is_empty);
/* Adds the entries names[0..n) (written by radarflow into dir after the set
 * was switched in, e.g. the quick-look pictures: "quicklook/" for the
 * folder, "quicklook/map.png" for a file) to dir's marker, exactly those:
 * nothing else in dir is adopted. 0 also when dir is not marked. */
int rf_products_adopt(const char *dir, const char *const *names, size_t n);

/* The switch of one product set. create: resolves outdir (a symbolic link
 * at outdir is followed: its target is switched), refuses (RF_EINVAL) an
 * input equal to it or inside it and an outdir rf_products_check refuses,
 * recovers and removes temporaries that killed runs on this host left
 * beside it, and makes the temporary folder parent/.<name>.tmp.<host>.<pid>
 * (marked "writing"); RF_EINVAL "output folder is not writable" when it
 * cannot. The new set is written into rf_outset_tmpdir. commit: checks
 * outdir again, marks the set complete (listing every entry), and puts it
 * in place with one rename (outdir absent) or renameat2(RENAME_EXCHANGE)
 * (outdir present), then removes the old set's listed entries; on a file
 * system without the exchange: old set renamed aside to .<name>.old.<host>
 * .<pid>, new set renamed in, old removed (a kill between the two renames
 * leaves outdir missing until the next create or clean_stale puts the new
 * set, else the old one, in place). destroy: removes the temporary folder
 * unless committed. RF_TEST_SWITCH_DELAY_MS (tests) sleeps between the
 * steps of commit; RF_TEST_NO_EXCHANGE forces the rename path. */
typedef struct rf_outset rf_outset;
/* flags: RF_OUTSET_NO_CLEAN skips the look for stale temporaries (a batch
 * worker: the coordinator cleans the whole output root once). */
#define RF_OUTSET_NO_CLEAN 1
/* RF_OUTSET_KEEP: the new set also keeps the old set's files it does not
 * rewrite (hard links; the old quick look is dropped), and an input may lie
 * inside outdir (`radarflow track OUTDIR/plots.h5 -o OUTDIR`). */
#define RF_OUTSET_KEEP 2
int rf_outset_create(rf_outset **o, const char *outdir, const char *const *inputs, size_t ninputs, int flags);
const char *rf_outset_tmpdir(const rf_outset *o);
const char *rf_outset_dir(const rf_outset *o);
int rf_outset_commit(rf_outset *o);
void rf_outset_destroy(rf_outset *o); /* NULL is a no-op */
/* Recovery and removal of what killed runs on this host (dead process ids)
 * left beside outdir; returns how many temporaries were removed. */
size_t rf_outset_clean_stale(const char *outdir);
/* Parses a temporary's name ".<base>.tmp.<host>.<pid>" or ".<base>.old.
 * <host>.<pid>"; 0 on a match (*old 1 for .old.). */
/* Removes one temporary (parent/.<name>.tmp|old.<host>.<pid>) of a dead
 * process: all of it while it says "writing" (never a visible folder), else
 * only what its marker lists; 0 when it is gone. */
int rf_outset_remove_temp(const char *path);
int rf_outset_parse_temp(const char *entry, char *base, size_t blen, char *host, size_t hlen, long *pid,
                         int *old);

/* 1 when path (which need not exist) is dir or lies below it, compared
 * after resolving symbolic links; 0 otherwise. */
int rf_path_within(const char *dir, const char *path);
/* This host's name up to its first '.', as [A-Za-z0-9-_]. */
void rf_host_name(char *out, size_t len);
/* 1 when process pid exists (on this host) and is not a zombie. */
int rf_pid_alive(long pid);

#endif
