package io.vqdistill.models.data;

import io.vqdistill.api.InvalidArgumentException;

/**
 * The three disjoint parts of a data set the method uses: training images, validation images for
 * early stopping, and test images that only final evaluations see.
 *
 * @param train       the images the networks are fitted on
 * @param validation  the images early stopping watches
 * @param test        the held-out images of the reported numbers
 * @param description where the data came from and how it was split, for provenance
 */
public record DataSplit(ImageSet train, ImageSet validation, ImageSet test, String description) {
    /** Checks that the three parts describe the same kind of image. */
    public DataSplit {
        if (!train.shape().equals(validation.shape()) || !train.shape().equals(test.shape())) {
            throw new InvalidArgumentException("data split: image shapes differ: train " + train.shape()
                    + ", validation " + validation.shape() + ", test " + test.shape());
        }
        if (train.numClasses() != validation.numClasses() || train.numClasses() != test.numClasses()) {
            throw new InvalidArgumentException("data split: class counts differ: train " + train.numClasses()
                    + ", validation " + validation.numClasses() + ", test " + test.numClasses());
        }
    }

    /**
     * The same split with at most {@code maxTrain}, {@code maxValidation} and {@code maxTest} images (the
     * first ones). The description records the numbers of images actually kept ({@code limited to
     * 5000/1000/1000}), and nothing when the limits keep every image.
     */
    public DataSplit limit(int maxTrain, int maxValidation, int maxTest) {
        int t = Math.min(maxTrain, train.size());
        int v = Math.min(maxValidation, validation.size());
        int s = Math.min(maxTest, test.size());
        boolean all = t == train.size() && v == validation.size() && s == test.size();
        return new DataSplit(train.range(0, t), validation.range(0, v), test.range(0, s),
                all ? description : description + " limited to " + t + "/" + v + "/" + s);
    }
}
