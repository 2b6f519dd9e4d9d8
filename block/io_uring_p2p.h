/* SPDX-License-Identifier: GPL-2.0 */
/*
 * io_uring registered buffers in peer-to-peer VMAs: what rsrc.c and rw.c
 * call. See p2p.c.
 */
#ifndef IOU_P2P_H
#define IOU_P2P_H

#include <linux/errno.h>
#include <linux/types.h>

struct iovec;
struct kiocb;
struct io_mapped_ubuf;
struct io_p2p_buf;

#ifdef CONFIG_IO_URING_P2P
bool io_p2p_buffer_probe(const struct iovec *iov);
int io_p2p_buffer_register(const struct iovec *iov,
			   struct io_mapped_ubuf **pimu);
void io_p2p_buffer_free(struct io_p2p_buf *buf);
int io_p2p_rw_start(struct io_p2p_buf *buf, struct kiocb *kiocb,
		    struct io_p2p_buf **held);
void io_p2p_buf_put(struct io_p2p_buf *buf);
#else
static inline bool io_p2p_buffer_probe(const struct iovec *iov)
{
	return false;
}

static inline int io_p2p_buffer_register(const struct iovec *iov,
					 struct io_mapped_ubuf **pimu)
{
	return -EOPNOTSUPP;
}

static inline void io_p2p_buffer_free(struct io_p2p_buf *buf)
{
}

static inline int io_p2p_rw_start(struct io_p2p_buf *buf, struct kiocb *kiocb,
				  struct io_p2p_buf **held)
{
	return -EOPNOTSUPP;
}

static inline void io_p2p_buf_put(struct io_p2p_buf *buf)
{
}
#endif

/* The request that held @*held in flight is over: let revocation go on. */
static inline void io_p2p_rw_done(struct io_p2p_buf **held)
{
	struct io_p2p_buf *buf = *held;

	if (unlikely(buf)) {
		*held = NULL;
		io_p2p_buf_put(buf);
	}
}

/* After ->read_iter/->write_iter: a queued request completes later. */
static inline void io_p2p_rw_issued(struct io_p2p_buf **held, ssize_t ret)
{
	if (ret != -EIOCBQUEUED)
		io_p2p_rw_done(held);
}

#endif /* IOU_P2P_H */
