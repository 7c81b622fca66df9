//! A wake-up list for tasks of one executor: tasks wait until a condition
//! holds; whoever changes what the condition reads calls `wake_all`.
//! Owned by: one executor (not `Send`).

use std::cell::RefCell;
use std::future::poll_fn;
use std::task::{Poll, Waker};

#[derive(Default)]
pub struct Notify {
    wakers: RefCell<Vec<Waker>>,
}

impl Notify {
    pub fn wake_all(&self) {
        let wakers = std::mem::take(&mut *self.wakers.borrow_mut());
        for w in wakers {
            w.wake();
        }
    }

    /// Returns once `cond` holds (checked now and after each `wake_all`).
    pub async fn until(&self, cond: impl Fn() -> bool) {
        poll_fn(|cx| {
            if cond() {
                Poll::Ready(())
            } else {
                self.wakers.borrow_mut().push(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}
