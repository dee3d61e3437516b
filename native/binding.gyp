{
  "targets": [
    {
      "target_name": "rstar_blas",
      "sources": ["blas.c"],
      "cflags": ["-O2", "-std=c11"],
      "libraries": ["-lopenblas"]
    }
  ]
}
