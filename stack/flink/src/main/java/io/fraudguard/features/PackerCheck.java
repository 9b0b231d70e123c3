package io.fraudguard.features;

import java.util.Random;

/**
 * Round-trips random columns of every width (0 to 64 bits, lengths 0 to 200, at odd offsets)
 * and varints between them through {@link Packer} and {@link Unpacker} (run by the tests):
 * {@code PackerCheck SEED CASES}. Prints one JSON line with the cases and the mismatches.
 */
public final class PackerCheck {
    private PackerCheck() {}

    public static void main(String[] args) {
        Random rng = new Random(Long.parseLong(args[0]));
        int cases = Integer.parseInt(args[1]);
        int mismatches = 0;
        Packer p = new Packer();
        for (int c = 0; c < cases; c++) {
            int width = c % 65;
            int offset = rng.nextInt(3);
            long[] values = new long[offset + rng.nextInt(201)];
            for (int i = offset; i < values.length; i++) {
                long v = width == 0 ? 0 : rng.nextLong() >>> (64 - width);
                values[i] = rng.nextInt(4) == 0 && width > 0 ? -1L >>> (64 - width) : v;
            }
            long marker = rng.nextLong();
            p.reset();
            p.varLong(marker);
            p.bits(values, offset, values.length);
            p.varLong(-marker);
            Unpacker u = new Unpacker(p.bytes(), p.length());
            long[] back = new long[values.length - offset];
            boolean same = u.varLong() == marker;
            u.bits(back, back.length);
            same &= u.varLong() == -marker && u.done();
            for (int i = 0; i < back.length; i++) {
                same &= back[i] == values[offset + i];
            }
            mismatches += same ? 0 : 1;
        }
        System.out.println("{\"cases\": " + cases + ", \"mismatches\": " + mismatches + "}");
    }
}
