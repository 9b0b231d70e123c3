package io.fraudguard.flink;

import io.fraudguard.features.BucketWindows;
import io.fraudguard.features.FeatureKernel;
import io.fraudguard.features.PackedState;
import io.fraudguard.features.Packer;
import io.fraudguard.features.RawEvents;
import io.fraudguard.features.Unpacker;
import java.io.IOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
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
 */
public abstract class KernelStateSerializer<T extends PackedState<T>> extends TypeSerializer<T> {
    private static final long serialVersionUID = 1L;
    private static final ThreadLocal<Packer> PACKER = ThreadLocal.withInitial(Packer::new);

    protected abstract T unpack(Unpacker u);

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
        T value = unpack(u);
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
        return obj != null && obj.getClass() == getClass();
    }

    @Override
    public int hashCode() {
        return getClass().hashCode();
    }

    /** A card's retried ids and history. */
    public static final class Card extends KernelStateSerializer<FeatureKernel.CardState> {
        private static final long serialVersionUID = 1L;

        @Override
        protected FeatureKernel.CardState unpack(Unpacker u) {
            return FeatureKernel.CardState.unpack(u);
        }

        @Override
        public TypeSerializerSnapshot<FeatureKernel.CardState> snapshotConfiguration() {
            return new CardSnapshot();
        }
    }

    /** A device's events. */
    public static final class Events extends KernelStateSerializer<RawEvents> {
        private static final long serialVersionUID = 1L;

        @Override
        protected RawEvents unpack(Unpacker u) {
            return RawEvents.unpack(u);
        }

        @Override
        public TypeSerializerSnapshot<RawEvents> snapshotConfiguration() {
            return new EventsSnapshot();
        }
    }

    /** A merchant's or a terminal's buckets. */
    public static final class Buckets extends KernelStateSerializer<BucketWindows> {
        private static final long serialVersionUID = 1L;

        @Override
        protected BucketWindows unpack(Unpacker u) {
            return BucketWindows.unpack(u);
        }

        @Override
        public TypeSerializerSnapshot<BucketWindows> snapshotConfiguration() {
            return new BucketsSnapshot();
        }
    }

    public static final class CardSnapshot
            extends SimpleTypeSerializerSnapshot<FeatureKernel.CardState> {
        public CardSnapshot() {
            super(Card::new);
        }
    }

    public static final class EventsSnapshot extends SimpleTypeSerializerSnapshot<RawEvents> {
        public EventsSnapshot() {
            super(Events::new);
        }
    }

    public static final class BucketsSnapshot extends SimpleTypeSerializerSnapshot<BucketWindows> {
        public BucketsSnapshot() {
            super(Buckets::new);
        }
    }
}
