//! Hash commands (Redis's `t_hash.c`). Skeleton: the commands land here.
