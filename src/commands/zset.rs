//! Sorted set commands (Redis's `t_zset.c`). Skeleton: the commands land here.
