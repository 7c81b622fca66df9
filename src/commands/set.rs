//! Set commands (Redis's `t_set.c`). Skeleton: the commands land here.
