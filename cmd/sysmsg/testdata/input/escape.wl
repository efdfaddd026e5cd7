workload "[2Jcleared"
