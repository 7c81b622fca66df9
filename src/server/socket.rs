//! Client sockets and their readiness: one epoll instance per shard.
//! Owned by: each shard (made in `boot::shard_main`, shared by its listeners
//! and their connections); runs on: that shard.
//!
//! Why not glommio's `TcpStream`: after every read that leaves the socket
//! empty it arms a one-shot io_uring poll, so each request of an
//! unpipelined client costs a submission, a completion delivered as task
//! work and, while the shard is busy, an interrupt to the shard's core
//! (measured: about a quarter of the shard's time at `-P 1`). Here every
//! client socket is registered once, edge-triggered, in the shard's epoll
//! instance; reads and writes are plain non-blocking syscalls, and only the
//! epoll instance itself is waited on through glommio, once per batch of
//! ready sockets — what Redis's event loop does with `epoll_wait`.
//!
//! Wake-ups cannot be lost: a task registers its waker only right after a
//! syscall answered `EAGAIN`, and with edge triggering any data (or buffer
//! space) that comes after that answer produces an event. Events for a
//! socket nobody waits on are dropped; its task tries the syscall before it
//! waits again. A read that returned less than it asked for emptied the
//! socket just as `EAGAIN` says, so the next read waits for an event
//! instead of asking the kernel again (one syscall less per batch of
//! requests); any read event since then makes it try the syscall first.
//! Everything runs on the shard's thread, so nothing here is shared.

use std::cell::{Cell, RefCell};
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_lite::io::{AsyncRead, AsyncWrite};
use futures_lite::{AsyncReadExt, Future};

/// Events read from the epoll instance per `epoll_wait`.
const EVENTS: usize = 256;

/// A registered socket's place in the poller: index and generation, so an
/// event for a closed socket never reaches the socket that reused the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Token {
    index: u32,
    generation: u32,
}

impl Token {
    fn to_u64(self) -> u64 {
        (u64::from(self.generation) << 32) | u64::from(self.index)
    }

    fn from_u64(v: u64) -> Token {
        Token {
            index: v as u32,
            generation: (v >> 32) as u32,
        }
    }
}

#[derive(Default)]
struct Waiters {
    generation: u32,
    live: bool,
    /// Unread data may be waiting (false after a read found the socket
    /// empty, until the next read event).
    readable: bool,
    read: Option<Waker>,
    write: Option<Waker>,
}

/// One shard's epoll instance and the tasks waiting on its sockets.
pub struct Poller {
    epfd: OwnedFd,
    waiters: RefCell<Vec<Waiters>>,
    free: RefCell<Vec<u32>>,
}

impl Poller {
    pub fn new() -> io::Result<Rc<Poller>> {
        // SAFETY: plain syscall; the fd is owned from here on.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Rc::new(Poller {
            // SAFETY: `fd` is a fresh descriptor nobody else owns.
            epfd: unsafe { OwnedFd::from_raw_fd(fd) },
            waiters: RefCell::new(Vec::new()),
            free: RefCell::new(Vec::new()),
        }))
    }

    fn register(&self, fd: RawFd) -> io::Result<Token> {
        let token = {
            let mut waiters = self.waiters.borrow_mut();
            let index = match self.free.borrow_mut().pop() {
                Some(i) => i,
                None => {
                    waiters.push(Waiters::default());
                    (waiters.len() - 1) as u32
                }
            };
            let w = &mut waiters[index as usize];
            w.generation = w.generation.wrapping_add(1);
            w.live = true;
            w.readable = true;
            Token {
                index,
                generation: w.generation,
            }
        };
        let mut ev = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32,
            u64: token.to_u64(),
        };
        // SAFETY: both fds are open; `ev` outlives the call.
        let rc =
            unsafe { libc::epoll_ctl(self.epfd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            self.release(token);
            return Err(e);
        }
        Ok(token)
    }

    fn deregister(&self, fd: RawFd, token: Token) {
        // SAFETY: `fd` is still open (its owner calls this before closing);
        // a socket duplicated elsewhere must stop reporting here.
        unsafe {
            libc::epoll_ctl(
                self.epfd.as_raw_fd(),
                libc::EPOLL_CTL_DEL,
                fd,
                std::ptr::null_mut(),
            );
        }
        self.release(token);
    }

    fn release(&self, token: Token) {
        let mut waiters = self.waiters.borrow_mut();
        let w = &mut waiters[token.index as usize];
        w.live = false;
        w.read = None;
        w.write = None;
        self.free.borrow_mut().push(token.index);
    }

    /// Whether a read may find data (see the module notes).
    fn may_read(&self, token: Token) -> bool {
        self.waiters.borrow()[token.index as usize].readable
    }

    /// A read found the socket empty (or emptied it).
    fn drained(&self, token: Token) {
        self.waiters.borrow_mut()[token.index as usize].readable = false;
    }

    fn wait_on(&self, token: Token, write: bool, waker: &Waker) {
        let mut waiters = self.waiters.borrow_mut();
        let w = &mut waiters[token.index as usize];
        let slot = if write { &mut w.write } else { &mut w.read };
        match slot {
            Some(old) if old.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
    }

    /// Wakes the tasks waiting on the sockets epoll reports ready; returns
    /// how many events there were.
    fn dispatch(&self, events: &mut [libc::epoll_event], wake: &mut Vec<Waker>) -> usize {
        // SAFETY: `events` is a valid buffer of its length; timeout 0.
        let n = unsafe {
            libc::epoll_wait(
                self.epfd.as_raw_fd(),
                events.as_mut_ptr(),
                events.len() as i32,
                0,
            )
        };
        if n <= 0 {
            return 0;
        }
        {
            let mut waiters = self.waiters.borrow_mut();
            for ev in &events[..n as usize] {
                let token = Token::from_u64(ev.u64);
                let Some(w) = waiters.get_mut(token.index as usize) else {
                    continue;
                };
                if !w.live || w.generation != token.generation {
                    continue;
                }
                let bits = ev.events as i32;
                let hangup = bits & (libc::EPOLLHUP | libc::EPOLLERR | libc::EPOLLRDHUP) != 0;
                if bits & libc::EPOLLIN != 0 || hangup {
                    w.readable = true;
                    wake.extend(w.read.take());
                }
                if bits & libc::EPOLLOUT != 0 || hangup {
                    wake.extend(w.write.take());
                }
            }
        }
        // Woken after the borrow ends: a waker may run code that registers.
        for w in wake.drain(..) {
            w.wake();
        }
        n as usize
    }

    /// The shard's readiness loop: waits (through glommio) until the epoll
    /// instance has events, then wakes their tasks. Runs until the shard
    /// stops.
    pub async fn run(self: Rc<Self>) {
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; EVENTS];
        // Reused: no allocation per batch of ready sockets.
        let mut wake = Vec::with_capacity(EVENTS);
        loop {
            while self.dispatch(&mut events, &mut wake) == EVENTS {}
            if let Err(e) = self.readable().await {
                tracing::error!("client socket poller stopped: {e}");
                return;
            }
        }
    }

    /// Resolves once the epoll instance is readable (has ready sockets).
    ///
    /// glommio has no public "wait until this fd is readable"; a glommio
    /// stream made from an fd arms exactly that poll when it is created, and
    /// its first read completes when the poll does. The read itself then
    /// fails (an epoll fd is not a socket), which is the signal. The stream
    /// gets a duplicate, so dropping it leaves our epoll fd open.
    async fn readable(&self) -> io::Result<()> {
        // SAFETY: dup of our own open fd; the stream owns the copy.
        let dup = unsafe { libc::fcntl(self.epfd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
        if dup < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `dup` is a fresh descriptor handed over whole.
        let mut probe = unsafe { glommio::net::TcpStream::from_raw_fd(dup) };
        let _ = probe.read(&mut [0u8; 1]).await;
        Ok(())
    }
}

/// An accepted client connection, served through the shard's poller.
pub struct Socket {
    fd: OwnedFd,
    token: Token,
    poller: Rc<Poller>,
    /// `timeout` (idle clients): a read waiting longer fails with TimedOut.
    idle: Cell<Option<Duration>>,
    timer: RefCell<Option<glommio::timer::Timer>>,
}

impl Socket {
    fn new(fd: OwnedFd, poller: &Rc<Poller>) -> io::Result<Socket> {
        let token = poller.register(fd.as_raw_fd())?;
        Ok(Socket {
            fd,
            token,
            poller: poller.clone(),
            idle: Cell::new(None),
            timer: RefCell::new(None),
        })
    }

    fn sock(&self) -> socket2::SockRef<'_> {
        socket2::SockRef::from(&self.fd)
    }

    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.sock().set_nodelay(on)
    }

    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.sock()
            .peer_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("not an IP socket"))
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock()
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("not an IP socket"))
    }

    /// A read that waits longer than `d` fails with `TimedOut` (`None`:
    /// reads wait for ever).
    pub fn set_read_timeout(&self, d: Option<Duration>) {
        self.idle.set(d);
        self.timer.borrow_mut().take();
    }

    /// Whether the idle timer, started when a read first had to wait, ran out.
    fn idle_expired(&self, cx: &mut Context<'_>) -> bool {
        let Some(d) = self.idle.get() else {
            return false;
        };
        let mut timer = self.timer.borrow_mut();
        let t = timer.get_or_insert_with(|| glommio::timer::Timer::new(d));
        Pin::new(t).poll(cx).is_ready()
    }
}

impl AsRawFd for Socket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.poller.deregister(self.fd.as_raw_fd(), self.token);
    }
}

/// Runs a non-blocking syscall: `Ok(n)`, or `None` for "would block";
/// EINTR is retried.
fn nonblocking(mut call: impl FnMut() -> isize) -> Option<io::Result<usize>> {
    loop {
        let rc = call();
        if rc >= 0 {
            return Some(Ok(rc as usize));
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::WouldBlock => return None,
            io::ErrorKind::Interrupted => continue,
            _ => return Some(Err(e)),
        }
    }
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let fd = self.fd.as_raw_fd();
        if self.poller.may_read(self.token) {
            // SAFETY: `buf` is valid for writes of its length.
            let read = nonblocking(|| unsafe {
                libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT)
            });
            match read {
                Some(r) => {
                    if matches!(r, Ok(n) if n > 0 && n < buf.len()) {
                        self.poller.drained(self.token);
                    }
                    self.timer.borrow_mut().take();
                    return Poll::Ready(r);
                }
                None => self.poller.drained(self.token),
            }
        }
        if self.idle_expired(cx) {
            self.timer.borrow_mut().take();
            return Poll::Ready(Err(io::ErrorKind::TimedOut.into()));
        }
        self.poller.wait_on(self.token, false, cx.waker());
        Poll::Pending
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let fd = self.fd.as_raw_fd();
        let flags = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
        // SAFETY: `buf` is valid for reads of its length.
        let written =
            nonblocking(|| unsafe { libc::send(fd, buf.as_ptr().cast(), buf.len(), flags) });
        if let Some(r) = written {
            return Poll::Ready(r);
        }
        self.poller.wait_on(self.token, true, cx.waker());
        Poll::Pending
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.sock().shutdown(std::net::Shutdown::Write))
    }
}

/// A listening socket whose connections are accepted through the poller.
pub struct Listener {
    sock: Socket,
}

impl Listener {
    /// Takes a bound, listening socket.
    pub fn new(sock: socket2::Socket, poller: &Rc<Poller>) -> io::Result<Listener> {
        sock.set_nonblocking(true)?;
        Ok(Listener {
            sock: Socket::new(sock.into(), poller)?,
        })
    }

    /// The next connection; its socket is blocking (every syscall on it
    /// passes MSG_DONTWAIT), so a copy handed to glommio behaves as its own
    /// sockets do.
    pub async fn accept(&self) -> io::Result<Socket> {
        let listen_fd = self.sock.fd.as_raw_fd();
        futures_lite::future::poll_fn(|cx| {
            // SAFETY: plain accept on our listening fd.
            let accepted = nonblocking(|| unsafe {
                libc::accept4(
                    listen_fd,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    libc::SOCK_CLOEXEC,
                ) as isize
            });
            match accepted {
                // SAFETY: a fresh descriptor from accept4.
                Some(Ok(fd)) => Poll::Ready(Socket::new(
                    unsafe { OwnedFd::from_raw_fd(fd as RawFd) },
                    &self.sock.poller,
                )),
                Some(Err(e)) => Poll::Ready(Err(e)),
                None => {
                    self.sock.poller.wait_on(self.sock.token, false, cx.waker());
                    Poll::Pending
                }
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_lite::AsyncWriteExt;
    use std::io::{Read, Write};

    /// A blocking client whose reads give up after 20 s.
    fn connect(addr: SocketAddr) -> std::net::TcpStream {
        let c = std::net::TcpStream::connect(addr).expect("connect");
        c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        c
    }

    /// Runs `f` with a poller and a listener on a loopback port, in a
    /// glommio executor of its own; `client` talks to it from a thread.
    fn with_server<C, F, Fut>(client: C, f: F)
    where
        C: FnOnce(std::net::SocketAddr) + Send + 'static,
        F: FnOnce(Listener) -> Fut + Send + 'static,
        Fut: Future<Output = ()>,
    {
        let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        sock.bind(&any.into()).expect("bind");
        sock.listen(16).expect("listen");
        let addr = sock.local_addr().unwrap().as_socket().unwrap();
        let peer = std::thread::spawn(move || client(addr));
        glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
            .spawn(move || async move {
                let poller = Poller::new().expect("poller");
                glommio::spawn_local(poller.clone().run()).detach();
                f(Listener::new(sock, &poller).expect("listener")).await;
            })
            .expect("executor")
            .join()
            .expect("join");
        peer.join().expect("client thread");
    }

    /// A read waits for data; a write far larger than the socket buffers
    /// waits for the peer to drain them (EPOLLOUT) and arrives whole.
    #[test]
    fn reads_wait_for_data_and_writes_for_buffer_space() {
        const BIG: usize = 16 << 20;
        with_server(
            |addr| {
                let mut c = connect(addr);
                std::thread::sleep(Duration::from_millis(100));
                c.write_all(b"ping").unwrap();
                // Let the server fill the buffers before reading.
                std::thread::sleep(Duration::from_millis(200));
                let mut got = vec![0u8; BIG];
                c.read_exact(&mut got).expect("the whole reply");
                assert!(got.iter().enumerate().all(|(i, b)| *b == (i % 251) as u8));
            },
            |l| async move {
                let mut s = l.accept().await.expect("accept");
                let mut buf = [0u8; 16];
                let n = s.read(&mut buf).await.expect("read");
                assert_eq!(&buf[..n], b"ping");
                let big: Vec<u8> = (0..BIG).map(|i| (i % 251) as u8).collect();
                s.write_all(&big).await.expect("write");
            },
        );
    }

    /// A read that fills its buffer leaves the rest to the next read (no new
    /// event comes for it); after a short read, data sent later is read
    /// whether its event came before the next read or while it waits.
    #[test]
    fn short_reads_wait_for_the_next_event_and_full_ones_do_not() {
        with_server(
            |addr| {
                let mut c = connect(addr);
                c.write_all(b"abcdefgh").unwrap();
                let mut b = [0u8; 1];
                c.read_exact(&mut b).expect("first ack");
                assert_eq!(&b, b"1");
                c.write_all(b"x").unwrap();
                c.read_exact(&mut b).expect("second ack");
                assert_eq!(&b, b"2");
                c.write_all(b"y").unwrap();
                c.read_exact(&mut b).expect("third ack");
                assert_eq!(&b, b"3");
            },
            |l| async move {
                let mut s = l.accept().await.expect("accept");
                let mut four = [0u8; 4];
                // Wait until all eight bytes are there, then read them in two.
                glommio::timer::sleep(Duration::from_millis(100)).await;
                assert_eq!(s.read(&mut four).await.expect("read"), 4);
                assert_eq!(&four, b"abcd");
                assert_eq!(s.read(&mut four).await.expect("read"), 4);
                assert_eq!(&four, b"efgh");
                s.write_all(b"1").await.expect("write");
                let mut buf = [0u8; 16];
                // Waits for the event: the last read emptied the socket.
                assert_eq!(s.read(&mut buf).await.expect("read"), 1);
                assert_eq!(buf[0], b'x');
                s.write_all(b"2").await.expect("write");
                // The event for "y" comes while this task sleeps.
                glommio::timer::sleep(Duration::from_millis(100)).await;
                assert_eq!(s.read(&mut buf).await.expect("read"), 1);
                assert_eq!(buf[0], b'y');
                s.write_all(b"3").await.expect("write");
                assert_eq!(s.read(&mut buf).await.expect("eof"), 0);
            },
        );
    }

    /// With a read timeout, a read that waits longer fails with TimedOut;
    /// a peer that closes is read as end of stream.
    #[test]
    fn idle_reads_time_out_and_hangups_end_the_stream() {
        with_server(
            |addr| {
                let mut c = connect(addr);
                let mut b = [0u8; 1];
                // The server says when its timed-out read is over.
                c.read_exact(&mut b).expect("go-ahead");
                drop(c);
            },
            |l| async move {
                let mut s = l.accept().await.expect("accept");
                s.set_read_timeout(Some(Duration::from_millis(100)));
                let started = std::time::Instant::now();
                let e = s.read(&mut [0u8; 8]).await.expect_err("timed out");
                assert_eq!(e.kind(), io::ErrorKind::TimedOut);
                assert!(started.elapsed() >= Duration::from_millis(90));
                s.set_read_timeout(None);
                s.write_all(b"!").await.expect("write");
                assert_eq!(s.read(&mut [0u8; 8]).await.expect("eof"), 0);
            },
        );
    }
}
