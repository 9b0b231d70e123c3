package io.fraudguard.features;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Writes a kernel state into one growable byte array: variable-length integers, bit-packed
 * columns of numbers and length-prefixed UTF-8 strings. A state leaves as one block, so a checkpoint stream sees one
 * write per state instead of one per number.
 *
 * <pre>{@code
 * Packer p = new Packer();
 * p.varLong(-3); p.string(null); p.string("FR");
 * Unpacker u = new Unpacker(p.bytes(), p.length());
 * u.varLong() == -3 && u.string() == null && u.string().equals("FR")
 * }</pre>
 */
public final class Packer {
    static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class,
            ByteOrder.LITTLE_ENDIAN);
    private byte[] buf = new byte[256];
    private int pos;
    private long[] scratch = new long[64];
    private int[] ints = new int[64];

    /** A work array of at least {@code n} numbers, reused by the next call. */
    public long[] scratch(int n) {
        if (scratch.length < n) {
            scratch = new long[Math.max(n, scratch.length * 2)];
        }
        return scratch;
    }

    /** A work array of at least {@code n} ints, reused by the next call. */
    public int[] ints(int n) {
        if (ints.length < n) {
            ints = new int[Math.max(n, ints.length * 2)];
        }
        return ints;
    }

    /** Zigzag: small negative numbers become small non-negative ones. */
    public static long zigzag(long v) {
        return (v << 1) ^ (v >> 63);
    }

    public Packer reset() {
        pos = 0;
        return this;
    }

    public byte[] bytes() {
        return buf;
    }

    public int length() {
        return pos;
    }

    private void room(int n) {
        if (pos + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + n));
        }
    }

    /**
     * {@code values[from..to)}, read as unsigned, each in as many bits as the largest needs: the
     * width as a varint, then the bits in little-endian 64-bit words. A merchant's buckets are
     * hundreds of small numbers of one kind; packed this way they take no more room than
     * varints and cost a shift and an or each instead of a loop over their bytes.
     */
    public void bits(long[] values, int from, int to) {
        long any = 0;
        for (int i = from; i < to; i++) {
            any |= values[i];
        }
        int width = 64 - Long.numberOfLeadingZeros(any);
        varInt(width);
        if (width == 0) {
            return;
        }
        room(8 * (int) (((long) (to - from) * width + 63) / 64));
        long word = 0;
        int used = 0;
        for (int i = from; i < to; i++) {
            long v = values[i];
            word |= v << used;
            used += width;
            if (used >= 64) {
                LONG.set(buf, pos, word);
                pos += 8;
                used -= 64;
                // the bits of v that did not fit start the next word
                word = used == 0 ? 0 : v >>> (width - used);
            }
        }
        if (used > 0) {
            LONG.set(buf, pos, word);
            pos += 8;
        }
    }

    /** Zigzag, so small negative numbers stay short too. */
    public void varLong(long v) {
        unsignedVarLong(zigzag(v));
    }

    public void varInt(int v) {
        unsignedVarLong(v & 0xFFFFFFFFL);
    }

    private void unsignedVarLong(long v) {
        room(10);
        while ((v & ~0x7FL) != 0) {
            buf[pos++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        buf[pos++] = (byte) v;
    }

    /**
     * {@code s} after {@code previous}: how many leading chars the two share, then the rest of
     * {@code s} as a {@link #string}. Neighbours in sorted order, and ids numbered by one
     * system, share most of their chars; a shared run never ends inside a surrogate pair, so
     * the rest is always whole UTF-8.
     */
    public void frontCoded(String previous, String s) {
        int shared = 0;
        if (previous != null && s != null) {
            int most = Math.min(previous.length(), s.length());
            while (shared < most && previous.charAt(shared) == s.charAt(shared)) {
                shared++;
            }
            if (shared > 0 && Character.isHighSurrogate(s.charAt(shared - 1))) {
                shared--;
            }
        }
        varInt(shared);
        if (s == null) {
            string(null);
            return;
        }
        int n = s.length() - shared;
        room(5 + n);
        int mark = pos;
        varInt(n + 1); // the length of the rest, right if it is ASCII (ids usually are)
        for (int i = shared; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                pos = mark; // not ASCII: encoded as any string
                string(s.substring(shared));
                return;
            }
            buf[pos++] = (byte) c;
        }
    }

    /** Null is length 0; a string of n bytes is n + 1. */
    public void string(String s) {
        if (s == null) {
            varInt(0);
            return;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        varInt(b.length + 1);
        room(b.length);
        System.arraycopy(b, 0, buf, pos, b.length);
        pos += b.length;
    }
}
