package io.fraudguard.flink;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fraudguard.features.BucketWindows;
import io.fraudguard.features.FeatureKernel;
import io.fraudguard.features.FeatureSpec;
import io.fraudguard.features.PackedState;
import io.fraudguard.features.Txn;
import java.io.IOException;
import java.util.List;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The job's state serializers: what a checkpoint writes, a restore reads back whole. */
class KernelStateSerializerTest {
    private static final long DAY = 86_400_000L;
    private static FeatureKernel kernel;

    @BeforeAll
    static void readSpec() throws Exception {
        kernel = new FeatureKernel(FeatureSpec.read(PackForDecisionContractTest.contract("feature-spec.json")));
    }

    private static Txn payment(int i) {
        return new Txn("t" + i, 1_790_000_000_000L + i * 7_000_000L, "c1", "m" + i % 3, "m0-t" + i % 2,
                10.0 + i % 17, i % 4 == 0 ? "DE" : "FR", "online", i % 5 == 0 ? null : "d" + i % 2);
    }

    private static <T> byte[] written(TypeSerializer<T> serializer, T state) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(256);
        serializer.serialize(state, out);
        return out.getCopyOfBuffer();
    }

    private static <T> T read(TypeSerializer<T> serializer, byte[] bytes) throws IOException {
        return serializer.deserialize(new DataInputDeserializer(bytes));
    }

    @Test
    void aCardReadBackWritesTheSameBytesAndGivesTheSameFeatures() throws Exception {
        KernelStateSerializer.Card serializer = new KernelStateSerializer.Card();
        FeatureKernel.CardState card = kernel.newCardState(DAY);
        double[] out = new double[kernel.spec.size()];
        for (int i = 0; i < 300; i++) {
            kernel.card(card, payment(i), out, new long[2]);
        }
        byte[] bytes = written(serializer, card);
        FeatureKernel.CardState restored = read(serializer, bytes);
        assertArrayEquals(bytes, written(serializer, restored));
        double[] again = new double[out.length];
        kernel.card(card, payment(300), out, new long[2]);
        kernel.card(restored, payment(300), again, new long[2]);
        assertArrayEquals(out, again);
    }

    @Test
    void bytesLeftOverInAStateAreAnError() throws Exception {
        KernelStateSerializer.Buckets serializer = new KernelStateSerializer.Buckets();
        byte[] bytes = written(serializer, kernel.newMerchantState());
        DataOutputSerializer longer = new DataOutputSerializer(64);
        longer.writeInt(bytes.length - 4 + 1);
        longer.write(bytes, 4, bytes.length - 4);
        longer.writeByte(0);
        assertThrows(IOException.class, () -> read(serializer, longer.getCopyOfBuffer()));
    }

    @Test
    void copyingSerializedStatesTakesOneBlockAtATime() throws Exception {
        KernelStateSerializer.Buckets serializer = new KernelStateSerializer.Buckets();
        BucketWindows merchant = kernel.newMerchantState();
        double[] out = new double[kernel.spec.size()];
        kernel.merchant(merchant, payment(1), FeatureKernel.NEVER, out);
        DataOutputSerializer two = new DataOutputSerializer(256);
        serializer.serialize(merchant, two);
        serializer.serialize(kernel.newMerchantState(), two);
        DataOutputSerializer copied = new DataOutputSerializer(256);
        serializer.copy(new DataInputDeserializer(two.getCopyOfBuffer()), copied);
        assertArrayEquals(written(serializer, merchant), copied.getCopyOfBuffer());
    }

    @Test
    void aSnapshotRestoresTheSameSerializer() throws Exception {
        for (TypeSerializer<?> serializer : List.of(new KernelStateSerializer.Card(),
                new KernelStateSerializer.Events(), new KernelStateSerializer.Buckets())) {
            TypeSerializerSnapshot<?> snapshot = serializer.snapshotConfiguration();
            DataOutputSerializer out = new DataOutputSerializer(64);
            snapshot.writeSnapshot(out);
            TypeSerializerSnapshot<?> read = snapshot.getClass().getConstructor().newInstance();
            read.readSnapshot(snapshot.getCurrentVersion(),
                    new DataInputDeserializer(out.getCopyOfBuffer()), getClass().getClassLoader());
            assertEquals(serializer, read.restoreSerializer());
        }
    }

    @Test
    void aSnapshotGoesThroughFlinksVersionedFormatAndIsCompatibleAsIs() throws Exception {
        for (KernelStateSerializer<?> serializer : List.of(new KernelStateSerializer.Card(),
                new KernelStateSerializer.Events(), new KernelStateSerializer.Buckets())) {
            assertCompatibleAsIs(serializer);
        }
    }

    private static <T extends PackedState<T>> void assertCompatibleAsIs(
            KernelStateSerializer<T> serializer) throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, serializer.snapshotConfiguration());
        TypeSerializerSnapshot<T> read = TypeSerializerSnapshot.readVersionedSnapshot(
                new DataInputDeserializer(out.getCopyOfBuffer()), KernelStateSerializerTest.class.getClassLoader());
        assertEquals(serializer, read.restoreSerializer());
        assertTrue(serializer.snapshotConfiguration().resolveSchemaCompatibility(read)
                .isCompatibleAsIs());
    }

    /** A snapshot as Flink stores it: the class, the format version, then the body. */
    private static byte[] storedSnapshot(Class<?> snapshot, int format, Integer layout)
            throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        out.writeUTF(snapshot.getName());
        out.writeInt(format);
        if (layout != null) {
            out.writeInt(layout);
        }
        return out.getCopyOfBuffer();
    }

    private static IOException refused(byte[] stored) {
        return assertThrows(IOException.class, () -> TypeSerializerSnapshot.readVersionedSnapshot(
                new DataInputDeserializer(stored), KernelStateSerializerTest.class.getClassLoader()));
    }

    @Test
    void aLayoutNewerThanTheCodeIsRefusedWithTheReason() throws Exception {
        int next = FeatureKernel.CardState.LAYOUT + 1;
        IOException e = refused(storedSnapshot(KernelStateSerializer.CardSnapshot.class, 4, next));
        assertEquals("the card state is in layout " + next + ", which this code cannot read (it"
                + " reads layouts 1 to " + FeatureKernel.CardState.LAYOUT + "): it was written by"
                + " newer FraudGuard code; restore it with that code or newer", e.getMessage());
        e = refused(storedSnapshot(KernelStateSerializer.BucketsSnapshot.class, 5, 1));
        assertTrue(e.getMessage().startsWith("the merchant or terminal state's serializer snapshot"
                + " is in format 5, which this code cannot read"), e.getMessage());
    }

    @Test
    void aLayoutOneSnapshotOfTheFormatBeforeLayoutsReadsAsLayoutOne() throws Exception {
        // What SimpleTypeSerializerSnapshot wrote (format 3, no body) for every layout-1 state.
        for (Class<?> snapshot : List.of(KernelStateSerializer.CardSnapshot.class,
                KernelStateSerializer.EventsSnapshot.class,
                KernelStateSerializer.BucketsSnapshot.class)) {
            TypeSerializerSnapshot<?> read = TypeSerializerSnapshot.readVersionedSnapshot(
                    new DataInputDeserializer(storedSnapshot(snapshot, 3, null)),
                    getClass().getClassLoader());
            assertEquals(1, ((KernelStateSerializer.LayoutSnapshot<?>) read).layout());
            assertEquals(1, ((KernelStateSerializer<?>) read.restoreSerializer()).layout());
        }
    }

    @Test
    void aStateOfAnOlderLayoutIsMigratedByAReaderOfThatLayout() throws Exception {
        TypeSerializerSnapshot<FeatureKernel.CardState> old =
                TypeSerializerSnapshot.readVersionedSnapshot(new DataInputDeserializer(
                        storedSnapshot(KernelStateSerializer.CardSnapshot.class, 3, null)),
                        getClass().getClassLoader());
        KernelStateSerializer.Card current = new KernelStateSerializer.Card();
        assertTrue(FeatureKernel.CardState.LAYOUT > 1);
        assertTrue(current.snapshotConfiguration().resolveSchemaCompatibility(old)
                .isCompatibleAfterMigration());
        KernelStateSerializer<FeatureKernel.CardState> reader =
                (KernelStateSerializer<FeatureKernel.CardState>) old.restoreSerializer();
        assertEquals(new KernelStateSerializer.Card(1), reader);
        assertThrows(UnsupportedOperationException.class,
                () -> written(reader, kernel.newCardState(DAY)));
        // The other way, a newer layout than the restoring code's, is never compatible.
        assertTrue(old.resolveSchemaCompatibility(current.snapshotConfiguration())
                .isIncompatible());
    }
}
