package io.fraudguard.features;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

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
        return unzigzag(unsignedVarLong());
    }

    public static long unzigzag(long v) {
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

    /** {@code count} numbers that {@link Packer#bits} wrote, into {@code out[0..count)}. */
    public void bits(long[] out, int count) {
        int width = varInt();
        if (width < 0 || width > 64) {
            throw new IllegalStateException("a packed column of " + width + "-bit numbers");
        }
        if (width == 0) {
            Arrays.fill(out, 0, count, 0L);
            return;
        }
        int words = (int) (((long) count * width + 63) / 64);
        if (pos + 8L * words > limit) {
            throw new IllegalStateException("a packed kernel state ends early");
        }
        long mask = width == 64 ? -1L : (1L << width) - 1;
        long word = 0;
        int left = 0; // bits of word not read yet
        for (int i = 0; i < count; i++) {
            if (left >= width) {
                out[i] = word & mask;
                word = width == 64 ? 0 : word >>> width;
                left -= width;
            } else {
                long next = (long) Packer.LONG.get(buf, pos);
                pos += 8;
                out[i] = (word | (next << left)) & mask;
                int taken = width - left; // bits of next in out[i]
                word = taken == 64 ? 0 : next >>> taken;
                left = 64 - taken;
            }
        }
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

    /** Refuses a {@code layout} outside 1 to {@code current}: no reader of it exists here. */
    static void checkLayout(String state, int layout, int current) {
        if (layout < 1 || layout > current) {
            throw new IllegalArgumentException(
                    "no reader of layout " + layout + " of " + state + " (1 to " + current + ")");
        }
    }

    /** A string {@link Packer#frontCoded} wrote after {@code previous}. */
    public String frontCoded(String previous) {
        int shared = varInt();
        if (shared == 0) {
            return string();
        }
        if (previous == null || shared < 0 || shared > previous.length()) {
            throw new IllegalStateException("a packed string shares more than the one before it");
        }
        int n = varInt() - 1;
        if (n < 0 || pos + n > limit) {
            throw new IllegalStateException("a packed kernel state ends early");
        }
        char[] chars = new char[shared + n];
        previous.getChars(0, shared, chars, 0);
        for (int i = 0; i < n; i++) {
            byte b = buf[pos + i];
            if (b < 0) { // not ASCII: decoded as any string
                String rest = new String(buf, pos, n, StandardCharsets.UTF_8);
                pos += n;
                return previous.substring(0, shared).concat(rest);
            }
            chars[shared + i] = (char) b;
        }
        pos += n;
        return new String(chars);
    }

    /** True when every byte was read: a state that leaves bytes over was read wrongly. */
    public boolean done() {
        return pos == limit;
    }
}
