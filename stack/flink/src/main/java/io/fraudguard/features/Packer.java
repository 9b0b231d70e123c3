package io.fraudguard.features;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Writes a kernel state into one growable byte array: variable-length integers and
 * length-prefixed UTF-8 strings. A state leaves as one block, so a checkpoint stream sees one
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
    private byte[] buf = new byte[256];
    private int pos;

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

    /** Zigzag, so small negative numbers stay short too. */
    public void varLong(long v) {
        unsignedVarLong((v << 1) ^ (v >> 63));
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
