package io.fraudguard.features;

/**
 * A kernel state that can be written as one block ({@link Packer}) and copied deeply; each
 * class reads itself back with a static {@code unpack(Unpacker)}.
 *
 * <p>Checkpoints and savepoints keep these blocks across upgrades of the code, so each class has
 * a {@code LAYOUT}: the version of the block it writes, raised whenever the block changes, and a
 * static {@code unpack(Unpacker, int layout)} that still reads every earlier layout.
 */
public interface PackedState<T> {
    void pack(Packer p);

    /** An independent copy: changing either leaves the other as it was. */
    T copy();
}
