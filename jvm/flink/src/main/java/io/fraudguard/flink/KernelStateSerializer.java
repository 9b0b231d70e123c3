package io.fraudguard.flink;

import io.fraudguard.features.BucketWindows;
import io.fraudguard.features.LabelWindows;
import io.fraudguard.features.FeatureKernel;
import io.fraudguard.features.PackedState;
import io.fraudguard.features.Packer;
import io.fraudguard.features.RawEvents;
import io.fraudguard.features.Unpacker;
import java.io.IOException;
import java.util.function.IntFunction;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Flink serializers for the kernel's states: each state is packed into one length-prefixed block
 * ({@link Packer}) and copied with its own {@code copy()}.
 *
 * <p>Why not Kryo, Flink's fallback for these classes: the heap backend writes every key's state
 * at each checkpoint and deep-copies a state touched while a checkpoint is being written. Kryo
 * did both by reflection, with reference tracking and one stream call per number; measured in
 * the job, the checkpoint thread was the largest consumer after the JIT.
 *
 * <p>Versioned: a state class's packed form has a layout number ({@code LAYOUT} in the kernel),
 * which the serializer's snapshot records in every checkpoint and savepoint ({@link
 * LayoutSnapshot}). A serializer reads one layout; it writes only the current one. Restored from
 * an older layout, the snapshot's restore serializer reads the old blocks and Flink rewrites them
 * in the current layout (RocksDB at restore, the heap backend at the next checkpoint), so an
 * upgrade keeps the state and the operator uids never change.
 */
public abstract class KernelStateSerializer<T extends PackedState<T>> extends TypeSerializer<T> {
    private static final long serialVersionUID = 1L;
    private static final ThreadLocal<Packer> PACKER = ThreadLocal.withInitial(Packer::new);
    private final int layout;

    /** The serializer of {@code layout}, from 1 to {@link #currentLayout}. */
    protected KernelStateSerializer(int layout) {
        if (layout < 1 || layout > currentLayout()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": no layout " + layout);
        }
        this.layout = layout;
    }

    /** The layout this code writes: the kernel class's {@code LAYOUT}. */
    protected abstract int currentLayout();

    protected abstract T unpack(Unpacker u, int layout);

    /** The layout this serializer reads. */
    public int layout() {
        return layout;
    }

    @Override
    public T copy(T from) {
        return from.copy();
    }

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public TypeSerializer<T> duplicate() {
        return this; // stateless: the packer is per thread
    }

    @Override
    public T createInstance() {
        return null;
    }

    @Override
    public T copy(T from, T reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(T value, DataOutputView target) throws IOException {
        if (layout != currentLayout()) {
            // A restore serializer only reads: what it read is written in the current layout.
            throw new UnsupportedOperationException(getClass().getSimpleName() + " of layout "
                    + layout + " reads old states; states are written in layout " + currentLayout());
        }
        Packer p = PACKER.get().reset();
        value.pack(p);
        target.writeInt(p.length());
        target.write(p.bytes(), 0, p.length());
    }

    @Override
    public T deserialize(DataInputView source) throws IOException {
        byte[] block = new byte[source.readInt()];
        source.readFully(block);
        Unpacker u = new Unpacker(block, block.length);
        T value = unpack(u, layout);
        if (!u.done()) {
            throw new IOException(getClass().getSimpleName() + ": bytes left over in a state");
        }
        return value;
    }

    @Override
    public T deserialize(T reuse, DataInputView source) throws IOException {
        return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        int length = source.readInt();
        target.writeInt(length);
        target.write(source, length);
    }

    @Override
    public boolean equals(Object obj) {
        return obj != null && obj.getClass() == getClass()
                && ((KernelStateSerializer<?>) obj).layout == layout;
    }

    @Override
    public int hashCode() {
        return 31 * getClass().hashCode() + layout;
    }

    /** A card's retried ids and history. */
    public static final class Card extends KernelStateSerializer<FeatureKernel.CardState> {
        private static final long serialVersionUID = 1L;

        public Card() {
            this(FeatureKernel.CardState.LAYOUT);
        }

        public Card(int layout) {
            super(layout);
        }

        @Override
        protected int currentLayout() {
            return FeatureKernel.CardState.LAYOUT;
        }

        @Override
        protected FeatureKernel.CardState unpack(Unpacker u, int layout) {
            return FeatureKernel.CardState.unpack(u, layout);
        }

        @Override
        public TypeSerializerSnapshot<FeatureKernel.CardState> snapshotConfiguration() {
            return new CardSnapshot(layout());
        }
    }

    /** A device's events. */
    public static final class Events extends KernelStateSerializer<RawEvents> {
        private static final long serialVersionUID = 1L;

        public Events() {
            this(RawEvents.LAYOUT);
        }

        public Events(int layout) {
            super(layout);
        }

        @Override
        protected int currentLayout() {
            return RawEvents.LAYOUT;
        }

        @Override
        protected RawEvents unpack(Unpacker u, int layout) {
            return RawEvents.unpack(u, layout);
        }

        @Override
        public TypeSerializerSnapshot<RawEvents> snapshotConfiguration() {
            return new EventsSnapshot(layout());
        }
    }

    /** A merchant's or a terminal's buckets. */
    public static final class Buckets extends KernelStateSerializer<BucketWindows> {
        private static final long serialVersionUID = 1L;

        public Buckets() {
            this(BucketWindows.LAYOUT);
        }

        public Buckets(int layout) {
            super(layout);
        }

        @Override
        protected int currentLayout() {
            return BucketWindows.LAYOUT;
        }

        @Override
        protected BucketWindows unpack(Unpacker u, int layout) {
            return BucketWindows.unpack(u, layout);
        }

        @Override
        public TypeSerializerSnapshot<BucketWindows> snapshotConfiguration() {
            return new BucketsSnapshot(layout());
        }
    }

    /** What a card, merchant or terminal learnt from fraud labels. */
    public static final class Labels extends KernelStateSerializer<LabelWindows> {
        private static final long serialVersionUID = 1L;

        public Labels() {
            this(LabelWindows.LAYOUT);
        }

        public Labels(int layout) {
            super(layout);
        }

        @Override
        protected int currentLayout() {
            return LabelWindows.LAYOUT;
        }

        @Override
        protected LabelWindows unpack(Unpacker u, int layout) {
            return LabelWindows.unpack(u, layout);
        }

        @Override
        public TypeSerializerSnapshot<LabelWindows> snapshotConfiguration() {
            return new LabelsSnapshot(layout());
        }
    }

    /**
     * The snapshot of a kernel state's serializer: the layout its states were written in. Its
     * format version 4 writes the layout as an int; version 3 is the format of Flink's
     * {@link org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot}, which these
     * classes extended before states had layouts: no body, and states in layout 1. The class
     * names are in every savepoint: they must never change.
     */
    public abstract static class LayoutSnapshot<T extends PackedState<T>>
            implements TypeSerializerSnapshot<T> {
        static final int UNVERSIONED_FORMAT = 3;
        static final int FORMAT = 4;
        private final String state;
        private final int currentLayout;
        private final IntFunction<KernelStateSerializer<T>> serializers;
        private int layout;

        /**
         * The snapshot of {@code state}'s serializer (the name is for messages) of
         * {@code layout}, with the current layout and each layout's serializer.
         */
        protected LayoutSnapshot(String state, int currentLayout,
                IntFunction<KernelStateSerializer<T>> serializers, int layout) {
            this.state = state;
            this.currentLayout = currentLayout;
            this.serializers = serializers;
            this.layout = layout;
        }

        /** The layout the snapshotted serializer's states are in. */
        public int layout() {
            return layout;
        }

        @Override
        public int getCurrentVersion() {
            return FORMAT;
        }

        @Override
        public void writeSnapshot(DataOutputView out) throws IOException {
            out.writeInt(layout);
        }

        @Override
        public void readSnapshot(int readVersion, DataInputView in, ClassLoader classLoader)
                throws IOException {
            if (readVersion == UNVERSIONED_FORMAT) {
                layout = 1;
            } else if (readVersion == FORMAT) {
                layout = in.readInt();
            } else {
                throw new IOException("the " + state + " state's serializer snapshot is in format "
                        + readVersion + ", which this code cannot read (it reads formats "
                        + UNVERSIONED_FORMAT + " and " + FORMAT + "): it was written by newer "
                        + "FraudGuard code; restore it with that code or newer");
            }
            if (layout < 1 || layout > currentLayout) {
                throw new IOException("the " + state + " state is in layout " + layout
                        + ", which this code cannot read (it reads layouts 1 to " + currentLayout
                        + "): it was written by newer FraudGuard code; restore it with that code"
                        + " or newer");
            }
        }

        @Override
        public TypeSerializer<T> restoreSerializer() {
            return serializers.apply(layout);
        }

        /** Called on the new serializer's snapshot with the restored one. */
        @Override
        public TypeSerializerSchemaCompatibility<T> resolveSchemaCompatibility(
                TypeSerializerSnapshot<T> oldSnapshot) {
            if (oldSnapshot.getClass() != getClass()) {
                return TypeSerializerSchemaCompatibility.incompatible();
            }
            int old = ((LayoutSnapshot<T>) oldSnapshot).layout;
            if (old == layout) {
                return TypeSerializerSchemaCompatibility.compatibleAsIs();
            }
            return old < layout
                    ? TypeSerializerSchemaCompatibility.compatibleAfterMigration()
                    : TypeSerializerSchemaCompatibility.incompatible();
        }
    }

    public static final class CardSnapshot extends LayoutSnapshot<FeatureKernel.CardState> {
        public CardSnapshot() {
            this(FeatureKernel.CardState.LAYOUT);
        }

        CardSnapshot(int layout) {
            super("card", FeatureKernel.CardState.LAYOUT, Card::new, layout);
        }
    }

    public static final class EventsSnapshot extends LayoutSnapshot<RawEvents> {
        public EventsSnapshot() {
            this(RawEvents.LAYOUT);
        }

        EventsSnapshot(int layout) {
            super("device", RawEvents.LAYOUT, Events::new, layout);
        }
    }

    public static final class BucketsSnapshot extends LayoutSnapshot<BucketWindows> {
        public BucketsSnapshot() {
            this(BucketWindows.LAYOUT);
        }

        BucketsSnapshot(int layout) {
            super("merchant or terminal", BucketWindows.LAYOUT, Buckets::new, layout);
        }
    }

    public static final class LabelsSnapshot extends LayoutSnapshot<LabelWindows> {
        public LabelsSnapshot() {
            this(LabelWindows.LAYOUT);
        }

        LabelsSnapshot(int layout) {
            super("labels", LabelWindows.LAYOUT, Labels::new, layout);
        }
    }
}
