/* radarflow: stage 5 on an OpenCL device, fused with candidate compaction
 * (kernels/cfar.cl, kernels/compact.cl), and the maps' noise-level
 * histograms. Twin of rf_cfar_ca_ref / _go_ref / _so_ref / _os_ref and
 * rf_cfar_hist_ref: the window, the mask and the shapes' factors come from
 * the rf_cfar object (factors converted to float). The CA/GO/SO
 * work-group is the tuning row's cfar_tile, the kernels' RF_CFAR_TILE. */
#include "rf_cl.h"

#include <string.h>

typedef struct rf__cfar_geom { /* kernels/cfar.cl rf_cfar_geom */
  cl_uint beams, bins, cells, baz, bel;
  cl_uint sv, w, gr, dko, dkg;
} rf__cfar_geom;

typedef struct rf__cfar_shape { /* kernels/cfar.cl rf_cfar_shape */
  cl_uint n, nside, os_k, pad;
  cl_float alpha, os_norm, pad1, pad2;
} rf__cfar_shape;

struct rf_cfar_cl {
  rf_cl *cl;
  rf_cfar_tables t;
  rf__cfar_geom g;
  cl_mem blank, shape_of, shapes, inv_var;
  cl_kernel k, k_hist, k_clear;
  const char *name;
  cl_uint *zeros;          /* [1 + beams]: what the counters are cleared with */
  size_t tile, wg;
};

void rf_cfar_cl_destroy(rf_cfar_cl *c) {
  if (!c) return;
  if (c->k) clReleaseKernel(c->k);
  if (c->k_hist) clReleaseKernel(c->k_hist);
  if (c->k_clear) clReleaseKernel(c->k_clear);
  rf_cl_free(c->cl, c->blank);
  rf_cl_free(c->cl, c->shape_of);
  rf_cl_free(c->cl, c->shapes);
  rf_cl_free(c->cl, c->inv_var);
  rf__free(c->zeros);
  rf__free(c);
}

/* A read-only table on the device, written once. */
static int rf__table(rf_cl *cl, const void *data, size_t bytes, const char *what, cl_mem *out) {
  int st = rf_cl_alloc(cl, bytes, CL_MEM_READ_ONLY, what, out);
  if (st) return st;
  cl_int e = clEnqueueWriteBuffer(rf_cl_queue(cl, RF_CL_QUEUE_COMPUTE), *out, CL_TRUE, 0, bytes, data, 0, NULL, NULL);
  return e == CL_SUCCESS ? 0 : rf__cl_err(e, "cfar: upload");
}

int rf_cfar_cl_create(rf_cfar_cl **out, rf_cl *cl, const rf_cfar *ref, size_t beams, size_t beams_az) {
  *out = NULL;
  static const char *const names[] = {"rf_cfar_ca", "rf_cfar_go", "rf_cfar_so", "rf_cfar_os"};
  rf_cfar_cl *c = rf__calloc(1, sizeof *c);
  rf__cfar_shape *sh = NULL;
  if (!c) return rf__err(RF_ENOMEM, "cfar (opencl): out of memory");
  c->cl = cl;
  rf_cfar_get_tables(ref, &c->t);
  const rf_cfar_tables *t = &c->t;
  c->name = names[t->kind];
  c->g = (rf__cfar_geom){(cl_uint)beams, (cl_uint)t->bins, (cl_uint)t->cells, (cl_uint)beams_az,
                         (cl_uint)(beams / beams_az), (cl_uint)t->valid_cells, (cl_uint)t->w, (cl_uint)t->gr,
                         (cl_uint)t->dko, (cl_uint)t->dkg};
  int st = 0;
  size_t ns = t->nshapes ? t->nshapes : 1;
  c->tile = rf_cl_tuning_get(cl)->cfar_tile;
  c->wg = rf_cl_tuning_get(cl)->wg;
  c->zeros = rf__calloc(1 + beams, sizeof *c->zeros);
  sh = rf__calloc(ns, sizeof *sh);
  if (!c->zeros || !sh) {
    st = rf__err(RF_ENOMEM, "cfar (opencl): out of memory");
    goto fail;
  }
  for (size_t s = 0; s < t->nshapes; s++) {
    rf_cfar_shape_info si;
    rf_cfar_get_shape(ref, s, &si);
    sh[s] = (rf__cfar_shape){(cl_uint)si.n, (cl_uint)si.nside, (cl_uint)si.os_k, 0, (cl_float)si.alpha,
                             (cl_float)si.os_norm, 0, 0};
  }
  if ((st = rf__table(cl, t->blank, t->bins * sizeof(cl_int), "CFAR mask", &c->blank)) ||
      (st = rf__table(cl, t->shape_of, 3 * t->bins * sizeof(cl_int), "CFAR shape table", &c->shape_of)) ||
      (st = rf__table(cl, sh, ns * sizeof *sh, "CFAR factors", &c->shapes)) ||
      (st = rf__table(cl, t->inv_var, t->bins * sizeof(cl_float), "CFAR bin variances", &c->inv_var)) ||
      (st = rf_cl_kernel(cl, c->name, &c->k)) || (st = rf_cl_kernel(cl, "rf_cfar_hist", &c->k_hist)) ||
      (st = rf_cl_kernel(cl, "rf_cfar_hist_clear", &c->k_clear)))
    goto fail;
  rf__free(sh);
  *out = c;
  return 0;
fail:
  rf__free(sh);
  rf_cfar_cl_destroy(c);
  return st;
}

int rf_cfar_cl_execute(rf_cfar_cl *c, cl_command_queue q, cl_mem power, cl_mem cand, size_t cap, cl_mem count,
                       cl_mem hist, cl_uint nwait, const cl_event *wait, cl_event *done) {
  const cl_uint acap = (cl_uint)cap;
  /* Cleared by a write rather than clEnqueueFillBuffer: oclgrind 21.10
   * loses track of what a fill initialised (each pattern-sized store of
   * the fill re-sizes its record of the buffer), and reports the counters
   * as uninitialised. */
  cl_int e = clEnqueueWriteBuffer(q, count, CL_FALSE, 0, (1 + c->g.beams) * sizeof(cl_uint), c->zeros, nwait,
                                  nwait ? wait : NULL, NULL);
  if (e != CL_SUCCESS) return rf__cl_err(e, "cfar: clear counters");
  int st;
  size_t g[3] = {c->g.cells, c->g.bins, c->g.beams};
  /* noise-level histograms */
  size_t nh = (size_t)c->g.beams * RF_CFAR_HIST, lc = c->wg;
  if ((st = rf_cl_args(c->k_clear, "rf_cfar_hist_clear", 1, sizeof(cl_mem), &hist)) ||
      (st = rf_cl_run(c->cl, q, c->k_clear, "rf_cfar_hist_clear", 1, &nh, NULL, 0, NULL, NULL)) ||
      (st = rf_cl_args(c->k_hist, "rf_cfar_hist", 5, sizeof c->g, &c->g, sizeof(cl_mem), &c->blank, sizeof(cl_mem),
                       &c->inv_var, sizeof(cl_mem), &power, sizeof(cl_mem), &hist)))
    return st;
  size_t lh[3] = {lc, 1, 1};
  if ((st = rf_cl_run(c->cl, q, c->k_hist, "rf_cfar_hist", 3, g, lh, 0, NULL, NULL))) return st;
  if (c->t.kind == RF_CFAR_OS) {
    st = rf_cl_args(c->k, c->name, 8, sizeof c->g, &c->g, sizeof(cl_mem), &c->blank, sizeof(cl_mem), &c->shape_of,
                    sizeof(cl_mem), &c->shapes, sizeof(cl_mem), &power, sizeof(cl_mem), &cand, sizeof acap, &acap,
                    sizeof(cl_mem), &count);
    if (st) return st;
    size_t loc[3] = {c->wg, 1, 1};
    return rf_cl_run(c->cl, q, c->k, c->name, 3, g, loc, 0, NULL, done);
  }
  size_t tile = (c->tile + 2 * (size_t)c->g.w) * sizeof(float);
  st = rf_cl_args(c->k, c->name, 9, sizeof c->g, &c->g, sizeof(cl_mem), &c->blank, sizeof(cl_mem), &c->shape_of,
                  sizeof(cl_mem), &c->shapes, tile, NULL, sizeof(cl_mem), &power, sizeof(cl_mem), &cand, sizeof acap,
                  &acap, sizeof(cl_mem), &count);
  if (st) return st;
  size_t loc[3] = {c->tile, 1, 1};
  return rf_cl_run(c->cl, q, c->k, c->name, 3, g, loc, 0, NULL, done);
}
