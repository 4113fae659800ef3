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

    /** The same split with at most {@code maxTrain}, {@code maxValidation} and {@code maxTest} images (the first ones). */
    public DataSplit limit(int maxTrain, int maxValidation, int maxTest) {
        return new DataSplit(
                train.range(0, Math.min(maxTrain, train.size())),
                validation.range(0, Math.min(maxValidation, validation.size())),
                test.range(0, Math.min(maxTest, test.size())),
                description + " limited to " + maxTrain + "/" + maxValidation + "/" + maxTest);
    }
}
