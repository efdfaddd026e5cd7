workload "café"
