//! Client listeners: every shard binds each `bind` address on the client port
//! with SO_REUSEPORT and accepts its own connections, which then live on that
//! shard for their whole life. Runs on: each shard.

use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;

use socket2::{Domain, Protocol, Socket, Type};

use super::connection;
use super::context::ShardCtx;
use super::socket::{Listener, Poller};

/// A `bind` entry: the address and whether failing to bind it is tolerated
/// (Redis's `-` prefix, e.g. `-::1`).
#[derive(Clone, Debug)]
pub struct BindAddr {
    pub addr: SocketAddr,
    pub optional: bool,
}

/// Parses the `bind` directive's addresses for `port`.
pub fn bind_addrs(bind: &[String], port: u16) -> Result<Vec<BindAddr>, String> {
    let mut out = Vec::new();
    for b in bind {
        let (optional, host) = match b.strip_prefix('-') {
            Some(h) => (true, h),
            None => (false, b.as_str()),
        };
        let ip: IpAddr = match host {
            "*" => IpAddr::from([0, 0, 0, 0]),
            "::*" => IpAddr::from([0u16; 8]),
            h => h
                .parse()
                .map_err(|_| format!("Invalid bind address '{b}'"))?,
        };
        out.push(BindAddr {
            addr: SocketAddr::new(ip, port),
            optional,
        });
    }
    Ok(out)
}

fn socket(addr: SocketAddr, reuse_port: bool) -> std::io::Result<Socket> {
    let domain = if addr.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let sock = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        sock.set_only_v6(true)?;
    }
    sock.set_reuse_address(true)?;
    if reuse_port {
        sock.set_reuse_port(true)?;
    }
    sock.bind(&addr.into())?;
    Ok(sock)
}

/// Checks, before any shard binds with SO_REUSEPORT, that no other process
/// holds the address (SO_REUSEPORT alone would let two servers share it).
/// Returns the addresses that can be used.
pub fn probe(addrs: &[BindAddr]) -> Result<Vec<BindAddr>, String> {
    let mut usable = Vec::new();
    for a in addrs {
        match socket(a.addr, false) {
            Ok(_) => usable.push(a.clone()),
            Err(e) if a.optional => {
                tracing::warn!(
                    "Could not create server TCP listening socket {}: bind: {e}",
                    a.addr
                );
            }
            Err(e) => {
                return Err(format!(
                    "Could not create server TCP listening socket {}: bind: {e}",
                    a.addr
                ))
            }
        }
    }
    if usable.is_empty() && !addrs.is_empty() {
        return Err("Failed listening on port: no bind address could be used".into());
    }
    Ok(usable)
}

/// Binds `addr` on this shard and starts accepting; the connections are
/// served through the shard's `poller`.
pub fn start(
    ctx: Rc<ShardCtx>,
    poller: &Rc<Poller>,
    addr: SocketAddr,
    backlog: u32,
) -> std::io::Result<()> {
    let sock = socket(addr, true)?;
    sock.listen(backlog.min(i32::MAX as u32) as i32)?;
    let listener = Listener::new(sock, poller)?;
    glommio::spawn_local(async move {
        loop {
            match listener.accept().await {
                Ok(stream) => {
                    glommio::spawn_local(connection::serve(ctx.clone(), stream)).detach();
                }
                Err(e) => {
                    tracing::warn!(shard = ctx.id.0, "accept failed: {e}");
                    glommio::timer::sleep(std::time::Duration::from_millis(10)).await;
                }
            }
        }
    })
    .detach();
    Ok(())
}
