package io.fraudguard.features;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** What {@link Packer} writes, {@link Unpacker} reads back, in the same order. */
class PackerTest {
    static IntStream widths() {
        return IntStream.rangeClosed(0, 64);
    }

    /** Columns of one width (lengths 0 to 200, at odd offsets, many at the width's maximum). */
    @ParameterizedTest
    @MethodSource("widths")
    void bitPackedColumnsReadBackBetweenVarints(int width) {
        Random rng = new Random(width);
        Packer p = new Packer();
        for (int c = 0; c < 30; c++) {
            int offset = rng.nextInt(3);
            long[] values = new long[offset + rng.nextInt(201)];
            long max = width == 0 ? 0 : -1L >>> (64 - width);
            for (int i = offset; i < values.length; i++) {
                values[i] = rng.nextInt(4) == 0 ? max : rng.nextLong() & max;
            }
            long marker = rng.nextLong();
            p.reset();
            p.varLong(marker);
            p.bits(values, offset, values.length);
            p.varLong(-marker);
            Unpacker u = new Unpacker(p.bytes(), p.length());
            long[] back = new long[values.length - offset];
            assertEquals(marker, u.varLong());
            u.bits(back, back.length);
            assertEquals(-marker, u.varLong());
            assertTrue(u.done());
            assertArrayEquals(Arrays.copyOfRange(values, offset, values.length), back);
        }
    }

    @Test
    void frontCodedStringsReadBackWholeAndShareTheirPrefix() {
        // null, a prefix of the one before, a surrogate pair split by the shared run, no share
        String[] values = {null, "m0182-t1", "m0182-t12", "m0182-t1", "", "x\uD83D\uDE00a",
                "x\uD83D\uDE01b", "m0358", null, "Zürich", "Zürich 東京"};
        Packer p = new Packer();
        String previous = null;
        for (String v : values) {
            p.frontCoded(previous, v);
            previous = v;
        }
        Unpacker u = new Unpacker(p.bytes(), p.length());
        previous = null;
        for (String v : values) {
            previous = u.frontCoded(previous);
            assertEquals(v, previous);
        }
        assertTrue(u.done());
        Packer plain = new Packer();
        plain.string("m0182-t12");
        p.reset().frontCoded("m0182-t1", "m0182-t12");
        assertEquals(3, p.length(), "the shared count, the rest's length, one char");
        assertTrue(p.length() < plain.length());
    }

    @Test
    void aFrontCodedStringSharingMoreThanTheOneBeforeIsRejected() {
        Packer p = new Packer();
        p.frontCoded("abcdef", "abcdxy");
        Unpacker u = new Unpacker(p.bytes(), p.length());
        assertThrows(IllegalStateException.class, () -> u.frontCoded("ab"));
    }

    @Test
    void numbersAndStringsReadBack() {
        Packer p = new Packer();
        long[] longs = {0, 1, -1, 63, -64, 64, Long.MAX_VALUE, Long.MIN_VALUE};
        for (long v : longs) {
            p.varLong(v);
        }
        p.varInt(-1);
        p.string(null);
        p.string("");
        p.string("Zürich 東京");
        Unpacker u = new Unpacker(p.bytes(), p.length());
        for (long v : longs) {
            assertEquals(v, u.varLong());
        }
        assertEquals(-1, u.varInt());
        assertNull(u.string());
        assertEquals("", u.string());
        assertEquals("Zürich 東京", u.string());
        assertTrue(u.done());
    }

    @Test
    void aTruncatedBlockIsAnErrorNotGarbage() {
        Packer p = new Packer();
        p.string("FR");
        p.bits(new long[] {5, 6, 7}, 0, 3);
        for (int cut = 0; cut < p.length(); cut++) {
            Unpacker u = new Unpacker(p.bytes(), cut);
            assertThrows(IllegalStateException.class, () -> {
                u.string();
                u.bits(new long[3], 3);
            }, "cut at " + cut);
        }
    }
}
