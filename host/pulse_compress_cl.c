/* radarflow: stages 1 and 2 on an OpenCL device - twin of rf_pc_execute.
 * Conversion and calibration (kernel), VkFFT forward transform with the
 * padded tail not read, spectral multiply (kernel), VkFFT inverse with the
 * tail not written. The filter and gains come from an rf_pc object, so both
 * paths apply the same numbers. */
#include "rf_cl.h"

struct rf_pc_cl {
  rf_cl *cl;
  rf_pc *ref;
  size_t n, s, l, max_pulses;
  int sample_type;
  cl_mem rows, h, gain;
  cl_kernel convert, multiply;
  rf_cl_fft *fft;
};

cl_mem rf_pc_cl_rows(const rf_pc_cl *pc) { return pc->rows; }
size_t rf_pc_cl_row_stride(const rf_pc_cl *pc) { return pc->l; }
const rf_pc *rf_pc_cl_ref(const rf_pc_cl *pc) { return pc->ref; }

void rf_pc_cl_destroy(rf_pc_cl *pc) {
  if (!pc) return;
  rf_cl_fft_destroy(pc->fft);
  if (pc->convert) clReleaseKernel(pc->convert);
  if (pc->multiply) clReleaseKernel(pc->multiply);
  rf_cl_free(pc->cl, pc->rows);
  rf_cl_free(pc->cl, pc->h);
  rf_cl_free(pc->cl, pc->gain);
  rf_pc_destroy(pc->ref);
  rf__free(pc);
}

int rf_pc_cl_create(rf_pc_cl **out, rf_cl *cl, const rf_pc_config *cfg) {
  *out = NULL;
  rf_pc_cl *pc = rf__calloc(1, sizeof *pc);
  if (!pc) return rf__err(RF_ENOMEM, "pulse compression (opencl): out of memory");
  pc->cl = cl;
  int st;
  rf_pc_config c1 = *cfg;
  c1.max_pulses = 1;
  if ((st = rf_pc_create(&pc->ref, &c1))) goto fail;
  const float *h, *gain;
  rf_pc_tables(pc->ref, &h, &pc->l, &gain);
  pc->n = cfg->channels;
  pc->s = cfg->samples;
  pc->max_pulses = cfg->max_pulses ? cfg->max_pulses : 1;
  pc->sample_type = cfg->sample_type;
  size_t rows_bytes;
  if (rf__mul_size(pc->max_pulses * pc->n, pc->l * 8, &rows_bytes)) {
    st = rf__err(RF_EINVAL, "pulse compression (opencl): block too large");
    goto fail;
  }
  cl_command_queue q = rf_cl_queue(cl, RF_CL_QUEUE_COMPUTE);
  if ((st = rf_cl_alloc(cl, rows_bytes, CL_MEM_READ_WRITE, "pulse-compressed rows", &pc->rows)) ||
      (st = rf_cl_alloc(cl, pc->l * 8, CL_MEM_READ_ONLY, "replica spectrum", &pc->h)) ||
      (st = rf_cl_alloc(cl, pc->n * 8, CL_MEM_READ_ONLY, "channel gains", &pc->gain)))
    goto fail;
  cl_int e = clEnqueueWriteBuffer(q, pc->h, CL_TRUE, 0, pc->l * 8, h, 0, NULL, NULL);
  if (e == CL_SUCCESS) e = clEnqueueWriteBuffer(q, pc->gain, CL_TRUE, 0, pc->n * 8, gain, 0, NULL, NULL);
  if (e != CL_SUCCESS) {
    st = rf__cl_err(e, "pulse compression: upload");
    goto fail;
  }
  if ((st = rf_cl_kernel(cl, pc->sample_type == RF_SAMPLE_INT16 ? "rf_pc_convert_i16" : "rf_pc_convert_f32",
                         &pc->convert)) ||
      (st = rf_cl_kernel(cl, "rf_pc_multiply", &pc->multiply)))
    goto fail;
  rf_cl_fft_shape shape = {.len = pc->l, .outer = 1, .zero_from = pc->s};
  if ((st = rf_cl_fft_create(cl, &pc->fft, &shape, pc->max_pulses * pc->n, pc->rows))) goto fail;
  *out = pc;
  return 0;
fail:
  rf_pc_cl_destroy(pc);
  return st;
}

int rf_pc_cl_execute(rf_pc_cl *pc, cl_command_queue q, cl_mem raw, size_t pulses, cl_uint nwait,
                     const cl_event *wait, cl_event *start, cl_event *done) {
  if (pulses > pc->max_pulses)
    return rf__err(RF_EINVAL, "pulse compression (opencl): %zu pulses, made for %zu", pulses, pc->max_pulses);
  cl_uint n = (cl_uint)pc->n, s = (cl_uint)pc->s, l = (cl_uint)pc->l, rows = (cl_uint)(pulses * pc->n);
  int st;
  if ((st = rf_cl_args(pc->convert, "rf_pc_convert", 7, sizeof(cl_mem), &raw, sizeof(cl_mem), &pc->gain,
                       sizeof n, &n, sizeof s, &s, sizeof l, &l, sizeof rows, &rows, sizeof(cl_mem),
                       &pc->rows)))
    return st;
  size_t g[2] = {pc->s, pulses * pc->n}, loc[2] = {rf_cl_tuning_get(pc->cl)->wg, 1};
  if ((st = rf_cl_run(pc->cl, q, pc->convert, "rf_pc_convert", 2, g, loc, nwait, wait, start))) return st;
  if ((st = rf_cl_fft_enqueue(pc->fft, q, 0, pc->rows))) return st;
  if ((st = rf_cl_args(pc->multiply, "rf_pc_multiply", 4, sizeof(cl_mem), &pc->rows, sizeof(cl_mem), &pc->h,
                       sizeof l, &l, sizeof rows, &rows)))
    return st;
  size_t gm[2] = {pc->l, pulses * pc->n};
  if ((st = rf_cl_run(pc->cl, q, pc->multiply, "rf_pc_multiply", 2, gm, loc, 0, NULL, NULL))) return st;
  if ((st = rf_cl_fft_enqueue(pc->fft, q, 1, pc->rows))) return st;
  if (done) {
    cl_int e = clEnqueueMarkerWithWaitList(q, 0, NULL, done);
    if (e != CL_SUCCESS) return rf__cl_err(e, "pulse compression: marker");
  }
  return 0;
}
