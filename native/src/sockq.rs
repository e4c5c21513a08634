//! The kernel send queue of a TCP socket, for telling a slow reader from one that stopped reading.
//!
//! ## Design
//! `send_queue(fd)` asks the kernel how many bytes written to the socket the other side has not
//! acknowledged yet (Linux `SIOCOUTQ`, the same number as `ss`'s Send-Q). It shrinks segment by
//! segment as the reader's kernel takes data, whereas a blocked writer in user space is only woken
//! once half of the send buffer has drained (seconds, for a slow reader).
//!
//! ## Not provided
//! Other platforms: `None`, and the caller falls back to what user space sees.

/// Unacknowledged bytes in the send queue of socket `fd`, or `None` (not Linux, not a socket, closed).
pub fn send_queue(fd: i32) -> Option<u32> {
    #[cfg(target_os = "linux")]
    {
        if fd < 0 {
            return None;
        }
        let mut queued: libc::c_int = 0;
        // SAFETY: TIOCOUTQ (= SIOCOUTQ) writes one int through the pointer; an fd that is not a socket
        // makes the call fail with an error code, which is mapped to None.
        let rc = unsafe { libc::ioctl(fd, libc::TIOCOUTQ, &mut queued as *mut libc::c_int) };
        if rc == 0 && queued >= 0 {
            Some(queued as u32)
        } else {
            None
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = fd;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn counts_unread_bytes_of_a_loopback_socket() {
        use std::io::Write;
        use std::net::{TcpListener, TcpStream};
        use std::os::fd::AsRawFd;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (_server, _) = listener.accept().unwrap();
        assert_eq!(send_queue(client.as_raw_fd()), Some(0));
        client.write_all(&[7u8; 1000]).unwrap();
        // Loopback acknowledges at once once the receiver's kernel has the bytes (nobody read them).
        let q = send_queue(client.as_raw_fd());
        assert!(q.is_some());
        assert_eq!(send_queue(-1), None);
    }
}
