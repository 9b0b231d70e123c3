package io.fraudguard.features;

import java.nio.charset.StandardCharsets;

/** Reads what a {@link Packer} wrote, in the same order. */
public final class Unpacker {
    private final byte[] buf;
    private final int limit;
    private int pos;

    public Unpacker(byte[] buf, int length) {
        this.buf = buf;
        this.limit = length;
    }

    public long varLong() {
        long v = unsignedVarLong();
        return (v >>> 1) ^ -(v & 1);
    }

    public int varInt() {
        return (int) unsignedVarLong();
    }

    private long unsignedVarLong() {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= limit) {
                throw new IllegalStateException("a packed kernel state ends early");
            }
            byte b = buf[pos++];
            v |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                return v;
            }
        }
        throw new IllegalStateException("a packed number runs over 10 bytes");
    }

    public String string() {
        int n = varInt();
        if (n == 0) {
            return null;
        }
        n -= 1;
        if (pos + n > limit) {
            throw new IllegalStateException("a packed kernel state ends early");
        }
        String s = new String(buf, pos, n, StandardCharsets.UTF_8);
        pos += n;
        return s;
    }

    /** True when every byte was read: a state that leaves bytes over was read wrongly. */
    public boolean done() {
        return pos == limit;
    }
}
