"""Ray, imported on first use: the modules that drive actors also load where Ray is absent or not yet wanted (the GPU
machine without the carried wheels, `bench learner`, the unit tests of the step's pure parts), and `import ray` costs
about a second of start-up."""


def lazy_ray():
    import ray

    return ray
