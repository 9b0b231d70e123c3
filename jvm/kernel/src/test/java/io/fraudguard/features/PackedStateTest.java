package io.fraudguard.features;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The kernel's states written as one block and read back, or copied, after every step carry on
 * exactly as the states that never left memory; a copy stays as it was while its original
 * changes.
 */
class PackedStateTest {
    private static FeatureSpec spec;

    @BeforeAll
    static void readSpec() throws Exception {
        spec = RandomPayments.spec();
    }

    static byte[] packed(PackedState<?> state) {
        Packer p = new Packer();
        state.pack(p);
        return Arrays.copyOf(p.bytes(), p.length());
    }

    /** Every other call reads the state back from its block, the others copy it. */
    static final class Reloaded implements BuildFeatures.StateHook {
        final List<Object[]> copied = new ArrayList<>(); // {original, its block when copied}
        int calls;

        private <T extends PackedState<T>> T through(T state, Function<Unpacker, T> unpack) {
            byte[] block = packed(state);
            if (calls++ % 2 == 0) {
                Unpacker u = new Unpacker(block, block.length);
                T read = unpack.apply(u);
                assertTrue(u.done(), "bytes left over");
                assertArrayEquals(block, packed(read), "read back, it packs differently");
                return read;
            }
            copied.add(new Object[] {state, block});
            return state.copy();
        }

        @Override
        public FeatureKernel.CardState card(FeatureKernel.CardState state) {
            return through(state, FeatureKernel.CardState::unpack);
        }

        @Override
        public BucketWindows buckets(BucketWindows state) {
            return through(state, BucketWindows::unpack);
        }

        @Override
        public RawEvents events(RawEvents state) {
            return through(state, RawEvents::unpack);
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1, 2})
    void statesReadBackOrCopiedGiveTheSameFeatures(long seed) throws Exception {
        List<Txn> txns = RandomPayments.of(spec, seed, 2000, seed == 2 ? 400 : 4, 5);
        FeatureKernel kernel = new FeatureKernel(spec);
        BuildFeatures.Offline plain = new BuildFeatures.Offline(kernel, RandomPayments.DAY);
        Reloaded reloaded = new Reloaded();
        BuildFeatures.Offline checked =
                new BuildFeatures.Offline(kernel, RandomPayments.DAY, reloaded);
        for (Txn txn : txns) { // arrival order: states also take late events
            assertArrayEquals(plain.next(txn), checked.next(txn), txn.txnId());
        }
        assertTrue(reloaded.calls >= 3 * txns.size());
        for (Object[] c : reloaded.copied) {
            assertArrayEquals((byte[]) c[1], packed((PackedState<?>) c[0]),
                    "a copied state changed: the checkpoint being written still holds it");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 5, 9})
    void aStateCutShortIsRejected(int cut) throws Exception {
        FeatureKernel kernel = new FeatureKernel(spec);
        FeatureKernel.CardState card = kernel.newCardState(RandomPayments.DAY);
        double[] out = new double[spec.size()];
        for (Txn txn : RandomPayments.of(spec, 0, 50, 4, 5)) {
            kernel.card(card, txn, out, new long[2]);
        }
        byte[] block = packed(card);
        assertThrows(IllegalStateException.class,
                () -> FeatureKernel.CardState.unpack(new Unpacker(block, block.length - cut)));
    }
}
