# SPDX-License-Identifier: MIT
# Two threads each map a 64 KiB anonymous buffer, write every page, and
# unmap it, 200 times (Python's mmap module: one mmap and one munmap
# system call each), while the main thread waits in join().
import mmap
import threading

def work(n):
    for i in range(n):
        m = mmap.mmap(-1, 64 * 1024)
        for off in range(0, len(m), 4096):
            m[off] = 1
        m.close()

threads = [threading.Thread(target=work, args=(200,)) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
