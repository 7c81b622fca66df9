#!/usr/bin/env bash
# tuning/apply.sh — applies the OS settings tuning/README.md recommends for
# running tessera fast: sysctls (accept backlog, overcommit), transparent huge
# pages off, memlock and open-file limits (io_uring / glommio), CPU frequency
# governor, and IRQ affinity moved onto the housekeeping CPUs so the shard
# cores only run shards. Kernel boot parameters (isolcpus, nohz_full) are only
# checked and suggested, never written.
#
# Idempotent: every setting is read first and changed only if it differs;
# each line of output says "ok", "set", "would set", "skip" or "FAIL".
# Needs root, except with --dry-run. Exit status 1 if any change failed.
#
# Usage: sudo tuning/apply.sh [--dry-run] [--housekeeping-cpus LIST] [--no-irq]
#   --dry-run              report what would change, change nothing
#   --housekeeping-cpus L  CPUs for IRQs, the OS and tessera's control executor
#                          (Linux list syntax, default 0); shards get the rest
#   --no-irq               leave IRQ affinity alone
set -euo pipefail

DRY_RUN=0
HOUSEKEEPING=0
DO_IRQ=1
FAILURES=0

SYSCTL_FILE=/etc/sysctl.d/90-tessera.conf
LIMITS_FILE=/etc/security/limits.d/90-tessera.conf

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

while (($#)); do
    case $1 in
        --dry-run) DRY_RUN=1 ;;
        --housekeeping-cpus)
            [[ $# -ge 2 ]] || { echo "--housekeeping-cpus needs a CPU list" >&2; exit 2; }
            HOUSEKEEPING=$2
            shift
            ;;
        --no-irq) DO_IRQ=0 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

if ((!DRY_RUN)) && ((EUID != 0)); then
    echo "apply.sh changes kernel settings and needs root (or use --dry-run)" >&2
    exit 1
fi

ok() { printf '  ok         %s\n' "$*"; }
skip() { printf '  skip       %s\n' "$*"; }
fail() { printf '  FAIL       %s\n' "$*"; FAILURES=$((FAILURES + 1)); }
note() { printf '  note       %s\n' "$*"; }

# change WHAT FROM TO COMMAND... — runs COMMAND unless --dry-run.
change() {
    local what=$1 from=$2 to=$3
    shift 3
    if ((DRY_RUN)); then
        printf '  would set  %s: %s -> %s\n' "$what" "$from" "$to"
    elif "$@" 2>/dev/null; then
        printf '  set        %s: %s -> %s\n' "$what" "$from" "$to"
    else
        fail "$what: could not change $from -> $to"
    fi
}

write_file() { printf '%s\n' "$2" >"$1"; }

# expand_cpus "0-3,6" -> "0 1 2 3 6"
expand_cpus() {
    local part a b i
    local -a parts cpus=()
    IFS=',' read -ra parts <<<"$1"
    for part in "${parts[@]}"; do
        [[ -z $part ]] && continue
        if [[ $part == *-* ]]; then
            a=${part%-*} b=${part#*-}
            for ((i = a; i <= b; i++)); do cpus+=("$i"); done
        else
            cpus+=("$part")
        fi
    done
    echo "${cpus[@]}"
}

# compress_cpus "0 1 2 3 6" -> "0-3,6"
compress_cpus() {
    local list="" start="" prev="" c
    for c in $1 end; do
        if [[ -n $start && ($c == end || $c -ne $((prev + 1))) ]]; then
            list+="${list:+,}$start"
            [[ $start != "$prev" ]] && list+="-$prev"
            start=""
        fi
        [[ $c == end ]] && break
        [[ -z $start ]] && start=$c
        prev=$c
    done
    echo "$list"
}

# Hex affinity mask of a CPU list, in /proc/irq's comma-separated 32-bit words.
cpu_mask() {
    local -a words=()
    local c max=0 w hex=""
    for c in $(expand_cpus "$1"); do ((c > max)) && max=$c; done
    for ((w = 0; w <= max / 32; w++)); do words[w]=0; done
    for c in $(expand_cpus "$1"); do
        words[c / 32]=$((words[c / 32] | (1 << (c % 32))))
    done
    for ((w = max / 32; w >= 0; w--)); do
        hex+="${hex:+,}$(printf '%08x' "${words[w]}")"
    done
    echo "$hex"
}

# sysctl_at_least KEY VALUE — raise only (a bigger value is fine).
sysctl_at_least() {
    local key=$1 want=$2 path="/proc/sys/${1//.//}" cur
    [[ -r $path ]] || { skip "$key: not available"; return; }
    cur=$(<"$path")
    if ((cur >= want)); then
        ok "$key = $cur (>= $want)"
    else
        change "$key" "$cur" "$want" sysctl -q -w "$key=$want"
    fi
}

# sysctl_exact KEY VALUE
sysctl_exact() {
    local key=$1 want=$2 path="/proc/sys/${1//.//}" cur
    [[ -r $path ]] || { skip "$key: not available"; return; }
    cur=$(<"$path")
    if [[ $cur == "$want" ]]; then
        ok "$key = $cur"
    else
        change "$key" "$cur" "$want" sysctl -q -w "$key=$want"
    fi
}

# ensure_file PATH CONTENT — create/replace a config file if its content differs.
ensure_file() {
    local path=$1 want=$2
    if [[ -f $path && "$(<"$path")" == "$want" ]]; then
        ok "$path up to date"
    else
        change "$path" "$([[ -f $path ]] && echo "other content" || echo "absent")" "tessera settings" \
            write_file "$path" "$want"
    fi
}

# The bracketed entry of a sysfs choice file: "always [madvise] never" -> madvise
sysfs_choice() { sed -n 's/.*\[\(.*\)\].*/\1/p' "$1"; }

ONLINE=$(expand_cpus "$(cat /sys/devices/system/cpu/online)")
HK=$(expand_cpus "$HOUSEKEEPING")
SHARDS=""
for c in $ONLINE; do
    [[ " $HK " == *" $c "* ]] || SHARDS+="$c "
done
HK_LIST=$(compress_cpus "$HK")
SHARD_LIST=$(compress_cpus "$SHARDS")
for c in $HK; do
    [[ " $ONLINE " == *" $c "* ]] || { echo "housekeeping CPU $c is not online" >&2; exit 2; }
done

echo "tessera tuning$( ((DRY_RUN)) && echo " (dry run)"): online CPUs $(compress_cpus "$ONLINE"), housekeeping $HK_LIST, shards ${SHARD_LIST:-none}"

echo "sysctls (runtime, persisted in $SYSCTL_FILE):"
# Accept queue: Linux caps listen()'s backlog (tcp-backlog) at somaxconn.
sysctl_at_least net.core.somaxconn 4096
sysctl_at_least net.ipv4.tcp_max_syn_backlog 4096
sysctl_at_least net.core.netdev_max_backlog 4096
# As Redis asks: never refuse an allocation for want of overcommit.
sysctl_exact vm.overcommit_memory 1
ensure_file "$SYSCTL_FILE" "# Written by tessera tuning/apply.sh
net.core.somaxconn = 4096
net.ipv4.tcp_max_syn_backlog = 4096
net.core.netdev_max_backlog = 4096
vm.overcommit_memory = 1"

echo "transparent huge pages (latency spikes and copy-on-write bloat, as Redis warns):"
for f in enabled defrag; do
    path=/sys/kernel/mm/transparent_hugepage/$f
    if [[ ! -w $path && ! -r $path ]]; then
        skip "THP $f: $path not present"
        continue
    fi
    cur=$(sysfs_choice "$path")
    if [[ $cur == never ]]; then
        ok "THP $f = never"
    else
        change "THP $f" "$cur" never write_file "$path" never
    fi
done
grep -qw 'transparent_hugepage=never' /proc/cmdline ||
    note "add transparent_hugepage=never to the kernel command line to keep THP off after reboot"

echo "limits (new sessions; persisted in $LIMITS_FILE):"
# glommio refuses to start below 512 KiB of memlock and registers 10 MiB of
# I/O buffers per executor with io_uring; too little and it falls back to
# unregistered buffers. maxclients 10000 needs as many descriptors.
ensure_file "$LIMITS_FILE" "# Written by tessera tuning/apply.sh
*    soft    memlock    unlimited
*    hard    memlock    unlimited
root soft    memlock    unlimited
root hard    memlock    unlimited
*    soft    nofile     65536
*    hard    nofile     65536
root soft    nofile     65536
root hard    nofile     65536"
note "this shell: memlock $(ulimit -l) KiB, nofile $(ulimit -n); limits.d applies to new logins only"
note "under systemd set LimitMEMLOCK=infinity and LimitNOFILE=65536 in the tessera unit"

echo "CPU frequency governor:"
governors=(/sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_governor)
if [[ ! -e ${governors[0]} ]]; then
    skip "no cpufreq (virtual machine or fixed frequency)"
else
    for g in "${governors[@]}"; do
        cpu=${g#/sys/devices/system/cpu/}
        cpu=${cpu%%/*}
        cur=$(<"$g")
        avail=$(<"${g%scaling_governor}scaling_available_governors")
        if [[ $cur == performance ]]; then
            ok "$cpu governor = performance"
        elif [[ " $avail " == *" performance "* ]]; then
            change "$cpu governor" "$cur" performance write_file "$g" performance
        else
            skip "$cpu: no performance governor (have: $avail)"
        fi
    done
fi

echo "IRQ affinity (device interrupts on housekeeping CPUs $HK_LIST, off the shard cores):"
if ((!DO_IRQ)); then
    skip "--no-irq given"
elif [[ -z $SHARDS ]]; then
    skip "no CPU left for shards: nothing to keep IRQs away from"
else
    if command -v systemctl >/dev/null && systemctl is-active --quiet irqbalance 2>/dev/null; then
        note "irqbalance is running and will move IRQs back: set IRQBALANCE_BANNED_CPULIST=$SHARD_LIST in /etc/default/irqbalance, or stop it"
    fi
    mask=$(cpu_mask "$HK_LIST")
    if [[ -w /proc/irq/default_smp_affinity || -r /proc/irq/default_smp_affinity ]]; then
        cur=$(tr -d '\n' </proc/irq/default_smp_affinity)
        # Compare as numbers: the kernel pads to its own word count.
        if [[ $((16#${cur//,/} + 0)) == $((16#${mask//,/} + 0)) ]] 2>/dev/null; then
            ok "default_smp_affinity = $cur"
        else
            change "default_smp_affinity" "$cur" "$mask" write_file /proc/irq/default_smp_affinity "$mask"
        fi
    fi
    moved=0 kept=0 refused=0
    for d in /proc/irq/[0-9]*; do
        f=$d/smp_affinity_list
        [[ -r $f ]] || continue
        cur=$(<"$f")
        if [[ $(compress_cpus "$(expand_cpus "$cur")") == "$HK_LIST" ]]; then
            kept=$((kept + 1))
        elif ((DRY_RUN)); then
            moved=$((moved + 1))
        elif write_file "$f" "$HK_LIST" 2>/dev/null; then
            moved=$((moved + 1))
        else
            # Per-CPU and managed IRQs (NVMe queues, timers) cannot be moved:
            # isolcpus=managed_irq keeps those off the shard cores instead.
            refused=$((refused + 1))
        fi
    done
    if ((DRY_RUN)); then
        echo "  would move $moved IRQs to CPUs $HK_LIST ($kept already there)"
    else
        echo "  moved $moved IRQs to CPUs $HK_LIST ($kept already there, $refused fixed by the kernel)"
    fi
fi

echo "kernel command line (checked only; edit your boot loader, then reboot):"
if [[ -z $SHARDS ]]; then
    skip "no shard CPUs to isolate"
else
    for p in "isolcpus=managed_irq,domain,$SHARD_LIST" "nohz_full=$SHARD_LIST" "rcu_nocbs=$SHARD_LIST"; do
        if grep -qw -- "$p" /proc/cmdline; then
            ok "$p"
        else
            note "missing $p"
        fi
    done
fi
if [[ -n $SHARDS ]]; then
    nshards=$(wc -w <<<"$SHARDS")
    first_hk=${HK%% *}
    echo "then start (see README): taskset -c $first_hk,$SHARD_LIST tessera tuning/tessera-fast.conf --shards $nshards"
fi

if ((FAILURES)); then
    echo "$FAILURES setting(s) could not be applied" >&2
    exit 1
fi
