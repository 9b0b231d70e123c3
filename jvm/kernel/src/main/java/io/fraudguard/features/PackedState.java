package io.fraudguard.features;

/**
 * A kernel state that can be written as one block ({@link Packer}) and copied deeply; each
 * class reads itself back with a static {@code unpack(Unpacker)}.
 */
public interface PackedState<T> {
    void pack(Packer p);

    /** An independent copy: changing either leaves the other as it was. */
    T copy();
}
